import type { DWClientDownStream } from 'dingtalk-stream';
import { describe, expect, it } from 'vitest';
import { handleStreamPush } from '../../src/platforms/dingtalk/dingtalk-stream';
import { robotPayload } from '../fixtures/dingtalk-robot-message';
import { capturingLogger, fixedClock, recordingInbound } from '../helpers/platform-test-kit';

const push = (data: unknown, messageId = 'stream-msg-1'): DWClientDownStream => ({
  specVersion: '1.0',
  type: 'CALLBACK',
  headers: { appId: 'app', connectionId: 'conn', contentType: 'application/json', messageId, time: '1750000000000', topic: '/v1.0/im/bot/messages/get' },
  data: typeof data === 'string' ? data : JSON.stringify(data),
});

describe('handleStreamPush (DingTalk Stream mode)', () => {
  const clock = fixedClock(1_750_000_000_000);

  it('normalises a robot push like the HTTP callback and acknowledges it after onInbound', async () => {
    const inbound = recordingInbound();
    const acks: string[] = [];
    const order: string[] = [];
    const out = await handleStreamPush(push(robotPayload), {
      clock,
      log: capturingLogger().log,
      botName: '交付助手',
      onInbound: async (m) => {
        order.push('inbound');
        return inbound.onInbound(m);
      },
      ack: (id) => {
        order.push('ack');
        acks.push(id);
      },
    });
    expect(out).toBe('accepted');
    expect(acks).toEqual(['stream-msg-1']);
    expect(order).toEqual(['inbound', 'ack']);
    expect(inbound.messages[0]).toMatchObject({
      platform: 'dingtalk',
      conversationId: robotPayload.conversationId,
      senderId: 'zhangsan01',
      messageId: robotPayload.msgId,
      text: '@李四 周五前提交测试报告',
      mentions: ['lisi01'],
    });
  });

  it('acknowledges a re-sent push the core already has', async () => {
    const acks: string[] = [];
    const out = await handleStreamPush(push(robotPayload, 'again'), {
      clock,
      log: capturingLogger().log,
      onInbound: async () => 'duplicate',
      ack: (id) => acks.push(id),
    });
    expect(out).toBe('duplicate');
    expect(acks).toEqual(['again']);
  });

  it('does not acknowledge when onInbound fails, so DingTalk re-sends it', async () => {
    const acks: string[] = [];
    const out = await handleStreamPush(push(robotPayload), {
      clock,
      log: capturingLogger().log,
      onInbound: async () => {
        throw new Error('db down');
      },
      ack: (id) => acks.push(id),
    });
    expect(out).toBe('failed');
    expect(acks).toEqual([]);
  });

  it('acknowledges and drops malformed and non-text pushes without calling onInbound', async () => {
    let calls = 0;
    const acks: string[] = [];
    const deps = {
      clock,
      log: capturingLogger().log,
      onInbound: async () => {
        calls++;
        return 'accepted' as const;
      },
      ack: (id: string) => acks.push(id),
    };
    expect(await handleStreamPush(push('not json', 'a'), deps)).toBe('malformed');
    expect(await handleStreamPush(push({ msgtype: 'text' }, 'b'), deps)).toBe('malformed');
    expect(await handleStreamPush(push({ ...robotPayload, msgtype: 'unknownType' }, 'c'), deps)).toBe('ignored');
    expect(calls).toBe(0);
    expect(acks).toEqual(['a', 'b', 'c']);
  });
});
