import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatLog, groups } from '../../src/db/schema';
import { createLogger } from '../../src/log';
import { maskSecrets } from '../../src/core/mask-secrets';
import { TEST_DATABASE_URL } from '../helpers/databases';
import { pgliteReadOnly, serverReadOnly, type ReadOnlyDb } from '../helpers/read-only';
import { startPlatformApp, type PlatformApp } from '../helpers/platform-app';

/**
 * A database that refuses every write (read-only), with WeCom and DingTalk configured and robot
 * secrets typed in chat: the failed inserts carry whole payloads as query parameters, and none of it
 * may reach a log line. The chat log never keeps a robot key or signing secret as typed.
 */

const setups = [{ name: 'pglite', open: pgliteReadOnly }, ...(TEST_DATABASE_URL ? [{ name: 'postgres', open: () => serverReadOnly(TEST_DATABASE_URL!) }] : [])];

describe('maskSecrets', () => {
  it('masks robot keys, access tokens and signing secrets, and keeps the rest', () => {
    expect(maskSecrets('/群 机器人=https://oapi.dingtalk.com/robot/send?access_token=abc123 密钥=SECdeadbeef0011')).toBe(
      '/群 机器人=https://oapi.dingtalk.com/robot/send?access_token=*** 密钥=***',
    );
    expect(maskSecrets('/群 机器人=693a91f6-7xxx-4bc4')).toBe('/群 机器人=***');
    expect(maskSecrets('/群 robot：https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1 SEC0123456789abcdef')).toBe(
      '/群 robot：https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=*** SEC***',
    );
    expect(maskSecrets('/单 新建 客户=华星科技 类型=专利')).toBe('/单 新建 客户=华星科技 类型=专利');
  });
});

describe.each(setups)('a read-only database leaks no secret ($name)', (setup) => {
  let ro: ReadOnlyDb;
  let p: PlatformApp;
  const lines: string[] = [];
  beforeAll(async () => {
    ro = await setup.open();
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    p = await startPlatformApp({ database: ro.database, log: createLogger('trace', destination) });
  });
  afterAll(async () => {
    await p?.close();
    await ro?.close();
  });

  it('stores robot commands masked, and logs refused writes without their parameters', async () => {
    const { secrets, wecom, dingtalk } = p;
    const wxHook = `${wecom.baseUrl}/cgi-bin/webhook/send?key=${secrets.webhookKey}`;
    const dtHook = `${dingtalk.baseUrl}/robot/send?access_token=${secrets.robotToken}`;

    // Writable: the commands run; the chat log keeps them masked.
    expect((await p.wecomMessage({ from: 'liu', chatid: 'ro-wx', text: `/群 机器人=${wxHook}` })).status).toBe(200);
    expect((await p.dingtalkMessage({ from: 'liu', conversationId: 'ro-dt', text: `/群 机器人=${dtHook} 密钥=${secrets.robotSecret}` })).status).toBe(200);
    await p.settle();
    const stored = await ro.database.db.select().from(chatLog);
    const typed = stored.filter((r) => r.direction === 'in' && r.text.startsWith('/群 机器人='));
    expect(typed).toHaveLength(2);
    for (const r of typed) {
      for (const secret of [secrets.webhookKey, secrets.robotToken, secrets.robotSecret]) expect(r.text).not.toContain(secret);
    }
    expect(typed.map((r) => r.text)).toContain(`/群 机器人=${dingtalk.baseUrl}/robot/send?access_token=*** 密钥=***`);
    // The robots were really set (masking the log did not mask the setting).
    const [dt] = await ro.database.db.select().from(groups).where(sql`conversation_id = 'ro-dt'`);
    expect(dt!.route).toMatchObject({ webhookAccessToken: secrets.robotToken, webhookSecret: secrets.robotSecret });

    // Read-only: every write is refused, with secrets in the refused statements' parameters.
    await ro.setReadOnly(true);
    try {
      const wx = await p.wecomMessage({ from: 'liu', chatid: 'ro-wx', text: `/群 机器人=${wxHook}`, responseCode: 'rc-secret-ro-1' });
      expect(wx.status).toBe(503);
      const dtRes = await p.dingtalkMessage({ from: 'liu', conversationId: 'ro-dt', text: `/群 机器人=${dtHook} 密钥=${secrets.robotSecret}`, session: 'sess-secret-ro-1' });
      expect(dtRes.status).toBe(503);
      // The driver's own error, logged as any module would log it.
      const log = createLogger('trace', new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString('utf8')), cb()) }));
      const err = await ro.database.db
        .insert(groups)
        .values({ platform: 'dingtalk', conversationId: 'ro-x', route: { webhookAccessToken: secrets.robotToken, webhookSecret: secrets.robotSecret }, createdAt: p.clock() })
        .then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(JSON.stringify({ message: (err as Error).message, params: (err as { params?: unknown }).params })).toContain(secrets.robotSecret);
      log.error({ err }, 'write refused');
      log.error(err as Error);
    } finally {
      await ro.setReadOnly(false);
    }

    const all = lines.join('');
    expect(all).toContain('database unavailable');
    expect(all).toMatch(/read-only transaction/);
    const forbidden = {
      aibotToken: secrets.aibotToken,
      aibotAesKey: secrets.aibotAesKey,
      webhookKey: secrets.webhookKey,
      dingAppSecret: secrets.dingAppSecret,
      robotToken: secrets.robotToken,
      robotSecret: secrets.robotSecret,
      responseCode: 'rc-secret-ro',
      session: 'sess-secret-ro',
    };
    for (const [name, value] of Object.entries(forbidden)) {
      const hit = lines.find((l) => l.includes(value));
      expect(hit, `${name} appears in a log line`).toBeUndefined();
    }
  });
});
