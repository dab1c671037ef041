import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';

describe('loadConfig', () => {
  it('has working defaults: embedded PGlite and the sandbox on', () => {
    const c = loadConfig({});
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.DATA_DIR).toBe('./data/pg');
    expect(c.sandboxEnabled).toBe(true);
    expect(c.PORT).toBe(3000);
  });
  it('reads admins and switches the sandbox off on request', () => {
    const c = loadConfig({ ADMIN_USERIDS: ' a, b ,,c', SANDBOX: 'off' });
    expect(c.ADMIN_USERIDS).toEqual(['a', 'b', 'c']);
    expect(c.sandboxEnabled).toBe(false);
  });
  it('names every wrong variable with the fix, and never echoes a secret', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://root:hunter2@db/x', LOG_LEVEL: 'loud' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain('PORT');
      expect(msg).toContain('DATABASE_URL：格式不对（当前值：「mysql://root:***@db/x」）。改法：以 postgres:// 或 postgresql:// 开头的连接串');
      expect(msg).toContain('LOG_LEVEL');
      expect(msg).not.toContain('hunter2');
      expect((err as ConfigError).problems).toHaveLength(3);
    }
  });

  it('says in Chinese what is wrong with each variable: its name, the bad value, how to write it with an example', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', SANDBOX: 'maybe', WORKING_HOURS: '9-18', OUTBOX_RATE_PER_MINUTE: '0', WECOM_API_BASE: 'qyapi' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(6);
    const line = (name: string) => problems.find((p) => p.startsWith(`${name}：`))!;
    expect(line('PORT')).toBe('PORT：不是数字（当前值：「eighty」）。改法：0–65535 的整数端口号，例如 PORT=3000');
    expect(line('LOG_LEVEL')).toMatch(/^LOG_LEVEL：只能是 fatal、error、warn、info、debug、trace、silent 之一（当前值：「loud」）。.*例如 LOG_LEVEL=info$/);
    expect(line('SANDBOX')).toContain('例如 SANDBOX=off');
    expect(line('WORKING_HOURS')).toBe('WORKING_HOURS：格式不对（当前值：「9-18」）。改法：写成「开始-结束」的 24 小时制时间，例如 WORKING_HOURS=09:00-18:00');
    expect(line('OUTBOX_RATE_PER_MINUTE')).toContain('太小，最小为 1（当前值：「0」）');
    expect(line('WECOM_API_BASE')).toContain('不是有效的网址');
    const msg = (err as Error).message;
    expect(msg).toMatch(/^配置有误，请按下面的说明修改环境变量后重新启动：/);
    // No English left from the validator.
    expect(msg).not.toMatch(/expected|received|Invalid|must /);
  });

  it('masks secrets: a bad key shows its length, never its characters', () => {
    let err: unknown;
    try {
      loadConfig({ WECOM_AIBOT_TOKEN: 't', WECOM_AIBOT_ENCODING_AES_KEY: 'abcdefSECRET' });
    } catch (e) {
      err = e;
    }
    const msg = (err as Error).message;
    expect(msg).toContain('WECOM_AIBOT_ENCODING_AES_KEY：格式不对（当前值：已隐藏，共 12 个字符）。改法：智能机器人「接收消息」页面随机获取的 43 位 EncodingAESKey');
    expect(msg).not.toContain('abcdefSECRET');
  });

  it('says half-set platform credentials in Chinese', () => {
    expect(() => loadConfig({ DINGTALK_APP_KEY: 'k' })).toThrow(/DINGTALK_APP_SECRET：未设置，它要与 DINGTALK_APP_KEY 一起设置/);
    expect(() => loadConfig({ DINGTALK_MODE: 'stream' })).toThrow(/DINGTALK_MODE：stream 模式需要同时设置 DINGTALK_APP_KEY 和 DINGTALK_APP_SECRET/);
  });
});
