import { describe, expect, it } from 'vitest';
import { OUTBOX_COMMANDS } from '../../src/features/outbox-admin/outbox-commands';
import { COMMANDS, parseWith } from '../helpers/commands';

const specs = [...COMMANDS, ...OUTBOX_COMMANDS.map((c) => c.spec)];
const parse = parseWith(specs);

describe('outbox commands parse in Chinese and English, from their own examples', () => {
  for (const { spec } of OUTBOX_COMMANDS) {
    it(spec.id, () => {
      const r = parse(spec.example);
      expect(r.ok && r.command.id).toBe(spec.id);
      const en = parse(spec.example.replace(`/${spec.zh.join(' ')}`, `/${spec.en.join(' ')}`));
      expect(en.ok && en.command.id).toBe(spec.id);
    });
  }
  it('reads the scope of /发送失败 and the number of /重发', () => {
    expect(parse('/发送失败 全部')).toMatchObject({ ok: true, args: { scope: '全部' } });
    expect(parse('/failed all')).toMatchObject({ ok: true, args: { scope: 'all' } });
    expect(parse('/重发 #12')).toMatchObject({ ok: true, args: { id: '#12' } });
  });
  it('tells the right form for malformed ones', () => {
    const a = parse('/发送失败 昨天');
    expect(!a.ok && a.reason === 'invalid' && a.message).toMatch(/范围只能是 全部、all/);
    const b = parse('/重发');
    expect(!b.ok && b.reason === 'invalid' && b.message).toMatch(/缺少消息编号.*\n正确格式：\/重发 <编号>/);
  });
});

describe('/群 机器人=…', () => {
  const wecomUrl = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa';
  const dingUrl = 'https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcdef';
  it('takes a whole webhook URL (its "=" and "?" included) or a bare key', () => {
    expect(parse(`/群 机器人=${wecomUrl}`)).toMatchObject({ ok: true, command: { id: 'group.set' }, args: { robot: wecomUrl } });
    expect(parse('/group robot=693a91f6-7xxx')).toMatchObject({ ok: true, args: { robot: '693a91f6-7xxx' } });
  });
  it('takes the DingTalk signing secret as 密钥=…, or after a space as DingTalk shows it', () => {
    expect(parse(`/群 机器人=${dingUrl} 密钥=SEC0123456789abcdef`)).toMatchObject({ ok: true, args: { robot: dingUrl, secret: 'SEC0123456789abcdef' } });
    expect(parse(`/群 机器人=${dingUrl} SEC0123456789abcdef`)).toMatchObject({ ok: true, args: { robot: dingUrl, extra: 'SEC0123456789abcdef' } });
  });
  it('still sets the group kind, alone or together with the robot', () => {
    expect(parse('/群 类型=客户')).toMatchObject({ ok: true, args: { kind: '客户' } });
    expect(parse(`/群 类型=内部 机器人=${wecomUrl}`)).toMatchObject({ ok: true, args: { kind: '内部', robot: wecomUrl } });
    const bad = parse('/群 类型=朋友');
    expect(!bad.ok && bad.reason === 'invalid' && bad.message).toMatch(/类型只能是/);
  });
});
