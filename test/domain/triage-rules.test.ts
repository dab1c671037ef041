import { describe, expect, it } from 'vitest';
import { classifyMessage, compileRules } from '../../src/features/triage/classify';
import rulesDoc from '../../src/features/triage/triage-rules.json';
import labelled from '../fixtures/triage-labelled.json';
import heldOut3 from '../fixtures/triage-heldout3.json';
import heldOut4 from '../fixtures/triage-heldout4.json';
import heldOut5 from '../fixtures/triage-heldout5.json';
import lexiconDoc from '../../src/features/triage/triage-lexicon.json';
import { compileLexicon } from '../../src/features/triage/lexicon';

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
 * set was written alongside the rules. The unseen figure is held-out-5's (below; docs/benchmarks.md).
 * The floors leave room for edits to the phrases. Precision is
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
 * Floors a little below what rules-4 + lexicon-1 (the scoring layer) measures (docs/benchmarks.md). heldOut,
 * heldOut2, held-out-3 and held-out-4 were all used to tune it. held-out-5 was written and committed before the
 * scoring layer and run once after it was frozen: the honest figure (P 0.95, R 0.95, level 0.632).
 */
describe('rule-based complaint triage on the held-out sets', () => {
  it('heldOut and heldOut2 (tuning data): precision ≥ 0.9, recall ≥ 0.9, level ≥ 0.85', () => {
    for (const set of [labelled.heldOut, labelled.heldOut2]) {
      const f = score(set);
      expect(f.precision).toBeGreaterThanOrEqual(0.9);
      expect(f.recall).toBeGreaterThanOrEqual(0.9);
      expect(f.levelAccuracy).toBeGreaterThanOrEqual(0.85);
    }
  });

  it('held-out-3 (45, tuning data): precision ≥ 0.9, recall ≥ 0.9, level ≥ 0.9', () => {
    expect(heldOut3.messages.length).toBeGreaterThanOrEqual(40);
    const f = score(heldOut3.messages);
    expect(f.precision).toBeGreaterThanOrEqual(0.9);
    expect(f.recall).toBeGreaterThanOrEqual(0.9);
    expect(f.levelAccuracy).toBeGreaterThanOrEqual(0.9);
  });

  it('held-out-4 (20, tuning data for the scoring layer): precision ≥ 0.9, recall ≥ 0.9, level ≥ 0.8', () => {
    const f = score(heldOut4.messages);
    expect(f.precision).toBeGreaterThanOrEqual(0.9);
    expect(f.recall).toBeGreaterThanOrEqual(0.9);
    expect(f.levelAccuracy).toBeGreaterThanOrEqual(0.8);
  });

  it('held-out-5 (40, unseen): precision ≥ 0.9, recall ≥ 0.9, level ≥ 0.6', () => {
    expect(heldOut5.messages.length).toBeGreaterThanOrEqual(30);
    expect(heldOut5.messages.filter((m) => m.complaint).length).toBeGreaterThanOrEqual(15);
    const f = score(heldOut5.messages);
    expect(f.precision).toBeGreaterThanOrEqual(0.9);
    expect(f.recall).toBeGreaterThanOrEqual(0.9);
    expect(f.levelAccuracy).toBeGreaterThanOrEqual(0.6);
  });
});

describe('the scoring layer (triage-lexicon.json)', () => {
  it('scores wordings no phrase lists, and keeps its guards', () => {
    expect(classifyMessage('一个简单的变更登记办了一个多月还没办下来')).toMatchObject({ isComplaint: true, level: 'A' });
    expect(classifyMessage('我们付了全款的，现在这个情况，钱能不能退一部分')).toMatchObject({ isComplaint: true, level: 'B' });
    expect(classifyMessage('你们这么做，我只能去市场监督管理局反映了')).toMatchObject({ isComplaint: true, level: 'D' });
    expect(classifyMessage('你们是不是不想做了？').isComplaint).toBe(true);
    expect(classifyMessage('不是投诉哈，就是问一下进度').isComplaint).toBe(false);
    expect(classifyMessage('请问退税的钱什么时候到账').isComplaint).toBe(false);
    expect(classifyMessage('我们的会计联系不上，她休假了').isComplaint).toBe(false);
    expect(classifyMessage('刚才电话没接到，在开车，稍后回您').isComplaint).toBe(false);
    expect(classifyMessage('合同已经盖章，快递寄出了，单号SF123456').isComplaint).toBe(false);
    expect(classifyMessage('你们辛苦了，进度不急').isComplaint).toBe(false);
    expect(classifyMessage('').version).toMatch(/^rules-\d+\+lexicon-\d+$/);
  });

  it('refuses a malformed lexicon', () => {
    expect(() => compileLexicon({ ...lexiconDoc, cues: [] })).toThrow();
    expect(() => compileLexicon({ ...lexiconDoc, cues: [{ ...lexiconDoc.cues[0], pattern: '{nosuchclass}' }] })).toThrow();
  });
});
