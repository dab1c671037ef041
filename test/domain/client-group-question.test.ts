import { describe, expect, it } from 'vitest';
import { loadClientGroupRules, parseClientGroupRules } from '../../src/features/client-groups/client-group-rules';
import { CLIENT_TEXTS, INTERNAL_WORDS } from '../../src/features/client-groups/client-group-texts';
import { isClientQuestion, looksLikeQuestion } from '../../src/features/client-groups/question';
import rulesJson from '../../src/features/client-groups/client-group-rules.json';

const rules = loadClientGroupRules();

describe('client-group question rule', () => {
  it.each([
    ['请问专利什么时候能提交', true],
    ['材料还缺哪些', true],
    ['能否加急', true],
    ['发票开了吗', true],
    ['OK?', true],
    ['好的，谢谢', false],
    ['收到', false],
    ['没什么问题了，辛苦', false],
  ])('%s → %s', (text, expected) => {
    expect(looksLikeQuestion(text, rules.question)).toBe(expected);
  });

  it("a triage verdict wins over the rule; no verdict (or a failing triage) falls back to the rule", async () => {
    expect(await isClientQuestion('收到', rules.question, async () => ({ question: true }))).toBe(true);
    expect(await isClientQuestion('请问进度？', rules.question, async () => ({ question: false }))).toBe(false);
    expect(await isClientQuestion('请问进度？', rules.question, async () => undefined)).toBe(true);
    expect(await isClientQuestion('请问进度？', rules.question, async () => Promise.reject(new Error('model down')))).toBe(true);
  });
});

describe('client-group rules data', () => {
  it('every rule cites a clause and the answer clock is 30 working minutes', () => {
    for (const r of rules.byId.values()) expect(r.timer.clause).toMatch(/\d/);
    expect(rules.rule('client-group.answer').duration).toEqual({ amount: 30, unit: 'workingMinutes' });
    expect(rules.rule('client-group.resolve').duration).toEqual({ amount: 2, unit: 'workingDays' });
    expect(rules.rule('client-group.weekly-contact').duration).toEqual({ amount: 5, unit: 'workingDays' });
    expect(rules.rule('client-group.materials-report').duration).toEqual({ amount: 10, unit: 'workingDays' });
  });

  it('refuses a file with a rule missing or a bad unit', () => {
    const doc = structuredClone(rulesJson) as { rules: { id: string; duration: { unit: string } }[] };
    expect(() => parseClientGroupRules({ ...doc, rules: doc.rules.slice(1) })).toThrow(/missing client-group.answer/);
    doc.rules[0]!.duration.unit = 'hours';
    expect(() => parseClientGroupRules(doc)).toThrow();
  });

  it('nothing this feature posts into a client group carries an internal word', () => {
    const texts = [CLIENT_TEXTS.answeredPrivately(), CLIENT_TEXTS.openNoted('11月26日(周四) 10:00'), CLIENT_TEXTS.resolved('已办好'), CLIENT_TEXTS.progressReport('初稿已完成')];
    for (const t of texts) for (const w of INTERNAL_WORDS) expect(t, t).not.toContain(w);
  });
});
