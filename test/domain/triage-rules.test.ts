import { describe, expect, it } from 'vitest';
import { classifyMessage, compileRules } from '../../src/features/triage/classify';
import rulesDoc from '../../src/features/triage/triage-rules.json';
import labelled from '../fixtures/triage-labelled.json';
import heldOut3 from '../fixtures/triage-heldout3.json';
import heldOut4 from '../fixtures/triage-heldout4.json';

function score(set: { text: string; complaint: boolean; level: string | null }[]) {
  const r = set.map((m) => ({ m, r: classifyMessage(m.text) }));
  const tp = r.filter((x) => x.m.complaint && x.r.isComplaint);
  const fp = r.filter((x) => !x.m.complaint && x.r.isComplaint).length;
  const fn = r.filter((x) => x.m.complaint && !x.r.isComplaint).length;
  return {
    precision: tp.length / Math.max(1, tp.length + fp),
    recall: tp.length / Math.max(1, tp.length + fn),
    levelAccuracy: tp.filter((x) => x.r.level === x.m.level).length / Math.max(1, tp.length),
  };
}

/**
 * The rule-based triage on the labelled set (test/fixtures/triage-labelled.json, written from the
 * standards' complaint examples and everyday client talk). A regression guard, not a quality claim: the
 * set was written alongside the rules, and on phrasings written after the rules (held-out-4) they still
 * find about one complaint in ten (docs/benchmarks.md). The floors leave room for edits to the phrases. Precision is
 * held higher than recall: a false alarm costs a supervisor's attention in the internal group, a miss
 * leaves the complaint to staff as before (they can still type /投诉).
 */
describe('rule-based complaint triage on the labelled set', () => {
  const set = labelled.messages;
  const results = set.map((m) => ({ m, r: classifyMessage(m.text) }));
  const tp = results.filter((x) => x.m.complaint && x.r.isComplaint).length;
  const fp = results.filter((x) => !x.m.complaint && x.r.isComplaint).length;
  const fn = results.filter((x) => x.m.complaint && !x.r.isComplaint).length;

  it('has at least 80 messages, complaints of each level and non-complaints', () => {
    expect(set.length).toBeGreaterThanOrEqual(80);
    for (const l of ['A', 'B', 'C', 'D']) expect(set.filter((m) => m.level === l).length, l).toBeGreaterThanOrEqual(2);
    expect(set.filter((m) => !m.complaint).length).toBeGreaterThanOrEqual(30);
  });

  it('precision ≥ 0.9 and recall ≥ 0.85', () => {
    expect(tp / (tp + fp)).toBeGreaterThanOrEqual(0.9);
    expect(tp / (tp + fn)).toBeGreaterThanOrEqual(0.85);
  });

  it('suggests the labelled level for at least 80% of the complaints it finds', () => {
    const found = results.filter((x) => x.m.complaint && x.r.isComplaint);
    expect(found.filter((x) => x.r.level === x.m.level).length / found.length).toBeGreaterThanOrEqual(0.8);
  });

  it('handles negation and politeness', () => {
    expect(classifyMessage('不用退款，改一下就行，谢谢').isComplaint).toBe(false);
    expect(classifyMessage('不需要换人，张工挺好的').isComplaint).toBe(false);
    expect(classifyMessage('我们要求退款').isComplaint).toBe(true);
    expect(classifyMessage('请问什么时候能出结果？').isComplaint).toBe(false);
  });

  it('quotes the client words and is pure', () => {
    const text = '你们上周说好周三给结果，到现在没人回电话，太不负责了';
    const r = classifyMessage(text);
    expect(r).toMatchObject({ isComplaint: true, level: 'A' });
    expect(text).toContain(r.evidenceQuote);
    expect(classifyMessage(text)).toEqual(r);
  });

  it('handles the client\'s own staff changes, questions and cushioned complaints', () => {
    expect(classifyMessage('我们财务换人了，以后请联系刘会计').isComplaint).toBe(false);
    expect(classifyMessage('请问第二次补正需要我们提供什么？').isComplaint).toBe(false);
    expect(classifyMessage('请问那个通知是什么意思？').isComplaint).toBe(false);
    expect(classifyMessage('你们负责的那个人态度太差了').level).toBe('A');
    expect(classifyMessage('请给我们换个负责人吧').isComplaint).toBe(true);
    expect(classifyMessage('张工人很好，但是这个事情实在是太久了').isComplaint).toBe(true);
    expect(classifyMessage('下午打了两次电话都是关机')).toMatchObject({ isComplaint: true, level: 'A' });
    expect(classifyMessage('如果还是这个效率，明年的续约我们要重新考虑了')).toMatchObject({ isComplaint: true, level: 'B' });
  });

  it('refuses a malformed rules file', () => {
    expect(() => compileRules({ ...rulesDoc, threshold: -1 })).toThrow();
    expect(() => compileRules({ ...rulesDoc, signals: [] })).toThrow();
  });
});

/**
 * Floors a little below what rules-3 measures (docs/benchmarks.md). heldOut and heldOut2 were used to
 * write rules-3 (tuning data). held-out-3 was never run while tuning, but its author wrote rules-3 right
 * after, so it is optimistic. held-out-4 was written after rules-3 was frozen: the honest figure, and low.
 */
describe('rule-based complaint triage on the held-out sets', () => {
  it('heldOut and heldOut2 (tuning data for rules-3): precision ≥ 0.9, recall ≥ 0.9, level ≥ 0.85', () => {
    for (const set of [labelled.heldOut, labelled.heldOut2]) {
      const f = score(set);
      expect(f.precision).toBeGreaterThanOrEqual(0.9);
      expect(f.recall).toBeGreaterThanOrEqual(0.9);
      expect(f.levelAccuracy).toBeGreaterThanOrEqual(0.85);
    }
  });

  it('held-out-3 (45, written before rules-3): precision ≥ 0.9, recall ≥ 0.9, level ≥ 0.9', () => {
    expect(heldOut3.messages.length).toBeGreaterThanOrEqual(40);
    const f = score(heldOut3.messages);
    expect(f.precision).toBeGreaterThanOrEqual(0.9);
    expect(f.recall).toBeGreaterThanOrEqual(0.9);
    expect(f.levelAccuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('held-out-4 (20, written after rules-3): no false alarm, and at least the one complaint it finds today', () => {
    const f = score(heldOut4.messages);
    expect(f.precision).toBeGreaterThanOrEqual(0.9);
    expect(f.recall).toBeGreaterThanOrEqual(0.1);
  });
});
