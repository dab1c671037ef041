import { describe, expect, it } from 'vitest';
import { classifyPause } from '../../src/domain/orders';

describe('pause kinds (3.5.2)', () => {
  it.each([
    ['客户未按合同付款', 'unpaid'],
    ['客户暂未付款', 'unpaid'],
    ['尾款未到账', 'unpaid'],
    ['客户已付款，等客户补资料', 'client'],
    ['等客户提供技术交底书', 'client'],
    ['负责人出差', 'other'],
  ])('3.5.2: 「%s」 is a %s pause', (reason, kind) => {
    expect(classifyPause(reason)).toBe(kind);
  });

  it('3.5.2: an explicit 类型= wins over the wording', () => {
    expect(classifyPause('等财务通知', '未付款')).toBe('unpaid');
    expect(classifyPause('客户未付款', '其他')).toBe('other');
    expect(classifyPause('客户未付款', '等客户')).toBe('client');
  });
});
