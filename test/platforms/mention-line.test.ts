import { describe, expect, it } from 'vitest';
import { withoutTagLine } from '../../src/core/mention-line';
import { byteLength, fitParts, splitIntoNumberedParts } from '../../src/platforms/split-by-bytes';

describe('withoutTagLine: the core\'s "@name" line, replaced where a channel renders real @s', () => {
  it('drops a last line of exactly one @name per mention', () => {
    expect(withoutTagLine('请今天提交。\n@张三 @李四', ['zhangsan', 'lisi'])).toBe('请今天提交。');
    expect(withoutTagLine('请今天提交。\n\n@张三', ['zhangsan'])).toBe('请今天提交。');
  });
  it('keeps the text when the last line is anything else', () => {
    expect(withoutTagLine('请今天提交。\n@张三', ['zhangsan', 'lisi'])).toBeNull();
    expect(withoutTagLine('请今天提交。\n@张三 你好', ['zhangsan'])).toBeNull();
    expect(withoutTagLine('@张三', ['zhangsan'])).toBeNull();
    expect(withoutTagLine('请今天提交。\n@张三', [])).toBeNull();
  });
});

describe('fitParts: kept parts re-fitted for a smaller channel, never cut', () => {
  it('leaves parts that fit and splits the others on character boundaries', () => {
    const parts = splitIntoNumberedParts('汉字😀\n'.repeat(800), 4096);
    const fitted = fitParts(parts, 2048);
    expect(fitted.length).toBeGreaterThan(parts.length);
    for (const p of fitted) expect(byteLength(p)).toBeLessThanOrEqual(2048);
    expect(fitted.join('').replace(/\n/g, '')).toBe(parts.join('').replace(/\n/g, ''));
    expect(fitParts(parts, 4096)).toEqual(parts);
  });
});
