import { describe, expect, it } from 'vitest';
import { splitByBytes, splitIntoNumberedParts } from '../../src/platforms/split-by-bytes';

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe('splitByBytes', () => {
  it('returns short text unchanged', () => {
    expect(splitByBytes('你好', 6)).toEqual(['你好']);
  });

  it('never cuts a 3-byte or 4-byte character, whatever the limit', () => {
    const text = '中文😀ab汉字🎉'.repeat(50);
    for (let max = 4; max <= 40; max++) {
      const parts = splitByBytes(text, max);
      expect(parts.join('')).toBe(text);
      for (const p of parts) {
        expect(bytes(p)).toBeLessThanOrEqual(max);
        expect(p).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      }
    }
  });

  it('prefers a line break in the second half of a piece and drops it', () => {
    const text = `${'一'.repeat(8)}\n${'二'.repeat(8)}`;
    expect(splitByBytes(text, 30)).toEqual(['一'.repeat(8), '二'.repeat(8)]);
  });

  it('ignores a line break too early in the piece (would make tiny parts)', () => {
    const text = `一\n${'二'.repeat(20)}`;
    const parts = splitByBytes(text, 30);
    expect(parts[0]).toBe(`一\n${'二'.repeat(8)}`);
    expect(parts.join('')).toBe(text);
  });

  it('refuses a limit too small for any character', () => {
    expect(() => splitByBytes('abc', 3)).toThrow(RangeError);
  });
});

describe('splitIntoNumberedParts', () => {
  it('labels parts "(i/n)" and keeps each, label included, within the limit', () => {
    const text = '客户反馈：交付时间需要提前一周。\n'.repeat(300);
    const parts = splitIntoNumberedParts(text, 2048);
    expect(parts.length).toBeGreaterThan(2);
    parts.forEach((p, i) => {
      expect(p.startsWith(`(${i + 1}/${parts.length})\n`)).toBe(true);
      expect(bytes(p)).toBeLessThanOrEqual(2048);
    });
  });

  it('does not label a message that fits', () => {
    expect(splitIntoNumberedParts('短消息', 2048)).toEqual(['短消息']);
  });
});
