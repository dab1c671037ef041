import { describe, expect, it } from 'vitest';
import { classifyMessage, compileRules, levelOf } from '../../src/features/triage/classify';
import { suggestedLevelText } from '../../src/features/triage/levels';
import { triageFigures } from '../helpers/triage-figures';
import rulesDoc from '../../src/features/triage/triage-rules.json';
import labelled from '../fixtures/triage-labelled.json';
import heldOut3 from '../fixtures/triage-heldout3.json';
import heldOut4 from '../fixtures/triage-heldout4.json';
import heldOut5 from '../fixtures/triage-heldout5.json';
import heldOut6 from '../fixtures/triage-heldout6.json';
import lexiconDoc from '../../src/features/triage/triage-lexicon.json';
import { compileLexicon } from '../../src/features/triage/lexicon';

const score = (set: { text: string; complaint: boolean; level: string | null }[]) => triageFigures(set, classifyMessage);

/**
 * The rule-based triage on the labelled set (test/fixtures/triage-labelled.json, written from the
 * standards' complaint examples and everyday client talk). A regression guard, not a quality claim: the
 * set was written alongside the rules. The unseen figure is held-out-5's (below; docs/benchmarks.md).
 * Issue 25 added sarcasm, rhetorical questions, emoji anger and look-alikes (each with `why`, its clause),
 * labelled before rules-5 + lexicon-2 were written; the floors there (P/R ≥ 0.95, level ≥ 0.8) are the issue's.
 * The floors leave room for edits to the phrases. Precision is
 * held higher than recall: a false alarm costs a supervisor's attention in the internal group, a miss
 * leaves the complaint to staff as before (they can still type /投诉).
 */
describe('rule-based complaint triage on the labelled set', () => {
  const set = labelled.messages;
  // Computed from the fixture on every run: nothing below is a copied figure.
  const f = triageFigures(set, classifyMessage);

  it('has at least 80 messages, complaints of each level and non-complaints', () => {
    expect(set.length).toBeGreaterThanOrEqual(80);
    for (const l of ['A', 'B', 'C', 'D']) expect(set.filter((m) => m.level === l).length, l).toBeGreaterThanOrEqual(2);
    expect(set.filter((m) => !m.complaint).length).toBeGreaterThanOrEqual(30);
  });

  it('holds the issue-25 cases: sarcasm, rhetorical questions, emoji anger and look-alikes, each citing its clause', () => {
    const added = set.filter((m): m is typeof m & { why: string } => 'why' in m && typeof m.why === 'string');
    expect(added.length).toBeGreaterThanOrEqual(50);
    const kinds = (w: string) => added.filter((m) => m.complaint && m.why.startsWith(w)).length;
    expect(kinds('sarcasm')).toBeGreaterThanOrEqual(10);
    expect(kinds('rhetorical')).toBeGreaterThanOrEqual(8);
    expect(kinds('emoji')).toBeGreaterThanOrEqual(10);
    expect(added.filter((m) => !m.complaint).length).toBeGreaterThanOrEqual(15);
    for (const m of added) expect(m.why, m.text).toMatch(m.complaint ? /(000|审计) \d\.\d/ : /^not a complaint/);
    for (const t of ['你们效率真高啊，一个月了还没动静', '这就是你们的专业？', '😡😡😡', '🙄 又拖了']) expect(set.map((m) => m.text)).toContain(t);
  });

  it('precision ≥ 0.95 and recall ≥ 0.95 (complaint vs not)', () => {
    expect(f.precision).toBeGreaterThanOrEqual(0.95);
    expect(f.recall).toBeGreaterThanOrEqual(0.95);
  });

  it('level accuracy ≥ 0.8, a range counting only when the label is one of its two levels, and few ranges', () => {
    expect(f.levelAccuracy).toBeGreaterThanOrEqual(0.8);
    // Over every labelled complaint, a missed one counting as wrong.
    expect(f.levelAccuracyAll).toBeGreaterThanOrEqual(0.8);
    // Without crediting ranges at all, and ranges kept rare: "A 或 B" everywhere would not pass.
    expect(f.levelExact).toBeGreaterThanOrEqual(0.8);
    expect(f.ranges).toBeGreaterThanOrEqual(1);
    expect(f.ranges / f.found).toBeLessThanOrEqual(0.1);
  });

  it('reads sarcasm, rhetorical questions and emoji anger, and not their look-alikes', () => {
    expect(classifyMessage('你们效率真高啊，一个月了还没动静')).toMatchObject({ isComplaint: true, level: 'A', levelRange: null });
    expect(classifyMessage('这就是你们的专业？')).toMatchObject({ isComplaint: true, level: 'A' });
    expect(classifyMessage('😡😡😡')).toMatchObject({ isComplaint: true, level: 'A' });
    expect(classifyMessage('真是谢谢你们了，让我白跑一趟税务局').isComplaint).toBe(true);
    expect(classifyMessage('呵呵，说好的周三，今天都周五了').isComplaint).toBe(true);
    expect(classifyMessage('你们效率真高啊，昨天交的今天就批了👍').isComplaint).toBe(false);
    expect(classifyMessage('谢谢张老师🙏🙏 效率真高').isComplaint).toBe(false);
    expect(classifyMessage('这就是你们说的那个表吧？我填好发过来').isComplaint).toBe(false);
    expect(classifyMessage('😂😂😂').isComplaint).toBe(false);
    expect(classifyMessage('等了一周终于批下来了，太开心了🎉').isComplaint).toBe(false);
    // Irony needs a named lapse, not a bare 没/还/又; a rhetorical question needs to end the message.
    expect(classifyMessage('真是谢谢你们了，没有你们我们真不知道怎么办').isComplaint).toBe(false);
    expect(classifyMessage('真是辛苦你们了，还要麻烦你们周末加班').isComplaint).toBe(false);
    expect(classifyMessage('你们觉得这样合理吗？我们想把两个商标一起报').isComplaint).toBe(false);
    expect(classifyMessage('一个简单的变更要两个月，你们觉得合理吗？').isComplaint).toBe(true);
  });

  it('names two levels where the words allow both, and one where they decide', () => {
    // 4.2 A 个别偶发 vs 4.2 B 投诉的数量比较多: a bare 又 does not say whether the client complained before.
    expect(classifyMessage('🙄 又拖了')).toMatchObject({ isComplaint: true, level: 'A', levelRange: ['A', 'B'] });
    // ...but 第二次 does (审计 3.2 B 2).
    expect(classifyMessage('😡 发票又开错了，这是第二次')).toMatchObject({ level: 'B', levelRange: null });
    // A regulator without money lost: 4.2 C (声誉) or D (重大的经济损失).
    expect(classifyMessage('🤬🤬 再不给个说法我就去市场监管局')).toMatchObject({ level: 'D', levelRange: ['C', 'D'] });
    // With the money lost named, D.
    expect(classifyMessage('延误了申报期，给我们造成了几十万的经济损失，我们会找律师')).toMatchObject({ level: 'D', levelRange: null });
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
 * Floors a little below what rules-4 + lexicon-1 (the scoring layer) measured (docs/benchmarks.md). heldOut,
 * heldOut2, held-out-3 and held-out-4 were all used to tune it. held-out-5 was written and committed before the
 * scoring layer and run once after it was frozen (P 0.95, R 0.95, level 0.632); rules-5 + lexicon-2 did not tune
 * on it (0.95 / 0.95 / 0.737 with ranges credited, 0.632 exact), but its error analysis was read first.
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

describe('level ranges', () => {
  it('levelOf: the highest level as before, and a range when the signals together allow two', () => {
    expect(levelOf([{ level: 'A' }])).toEqual({ level: 'A', levelRange: null });
    // 又 (A or B) beside a slow answer (A): A or B, the rules' own reading A.
    expect(levelOf([{ level: 'A' }, { level: 'A', orLevel: 'B' }])).toEqual({ level: 'A', levelRange: ['A', 'B'] });
    // ...beside 第二次 (B): B.
    expect(levelOf([{ level: 'B' }, { level: 'A', orLevel: 'B' }])).toEqual({ level: 'B', levelRange: null });
    // A regulator (D or C) beside an ultimatum (B): C or D.
    expect(levelOf([{ level: 'B' }, { level: 'D', orLevel: 'C' }])).toEqual({ level: 'D', levelRange: ['C', 'D'] });
    // ...beside money lost (D): D.
    expect(levelOf([{ level: 'D' }, { level: 'D', orLevel: 'C' }])).toEqual({ level: 'D', levelRange: null });
    expect(levelOf([])).toEqual({ level: 'A', levelRange: null });
  });

  it('a range counts for accuracy only when the label is one of its two levels', () => {
    const answers: Record<string, { isComplaint: boolean; level: 'A' | 'B' | 'C' | 'D' | null; levelRange: ['A' | 'B' | 'C' | 'D', 'A' | 'B' | 'C' | 'D'] | null }> = {
      one: { isComplaint: true, level: 'D', levelRange: ['C', 'D'] },
      two: { isComplaint: true, level: 'D', levelRange: ['C', 'D'] },
      three: { isComplaint: true, level: 'B', levelRange: null },
      four: { isComplaint: false, level: null, levelRange: null },
    };
    const f = triageFigures(
      [
        { text: 'one', complaint: true, level: 'C' },
        { text: 'two', complaint: true, level: 'B' },
        { text: 'three', complaint: true, level: 'B' },
        { text: 'four', complaint: true, level: 'A' },
      ],
      (t) => answers[t]!,
    );
    expect(f).toMatchObject({ found: 3, ranges: 2, recall: 0.75 });
    expect(f.levelAccuracy).toBeCloseTo(2 / 3);
    expect(f.levelAccuracyAll).toBeCloseTo(2 / 4);
    expect(f.levelExact).toBeCloseTo(1 / 3);
  });

  it('the notice names one level, or both', () => {
    expect(suggestedLevelText('A')).toBe('建议级别 A（轻微）');
    expect(suggestedLevelText('D', null)).toBe('建议级别 D（严重）');
    expect(suggestedLevelText('C', ['B', 'C'])).toBe('建议级别 B 或 C（一般或重大，确认时请定级）');
  });
});

describe('held-out-6 (issue 25: written by the rules-5 writer before rules-5, run once after it was frozen)', () => {
  // Floors a little below the measured P 1 / R 0.857 / level 0.833 (docs/benchmarks.md); do not tune on it.
  it('precision ≥ 0.9, recall ≥ 0.8, level ≥ 0.75', () => {
    expect(heldOut6.messages.length).toBeGreaterThanOrEqual(20);
    const f = score(heldOut6.messages);
    expect(f.precision).toBeGreaterThanOrEqual(0.9);
    expect(f.recall).toBeGreaterThanOrEqual(0.8);
    expect(f.levelAccuracy).toBeGreaterThanOrEqual(0.75);
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
