import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { configuredPlatforms } from '../../src/platforms/config-schema';

describe('platform config in the one config module', () => {
  it('defaults every base URL and path, and turns the sandbox on when no platform is configured', () => {
    const c = loadConfig({});
    expect(c.WECOM_API_BASE).toBe('https://qyapi.weixin.qq.com');
    expect(c.DINGTALK_OAPI_BASE).toBe('https://oapi.dingtalk.com');
    expect(c.DINGTALK_API_BASE).toBe('https://api.dingtalk.com');
    expect(c.WECOM_CALLBACK_PATH).toBe('/wecom/callback');
    expect(c.WECOM_AIBOT_PATH).toBe('/wecom/aibot');
    expect(c.DINGTALK_CALLBACK_PATH).toBe('/dingtalk/callback');
    expect(c.DINGTALK_MODE).toBe('http');
    expect(c.sandboxEnabled).toBe(true);
  });

  it('turns the sandbox off automatically once a platform is configured', () => {
    expect(loadConfig({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's' }).sandboxEnabled).toBe(false);
    expect(loadConfig({ WECOM_AIBOT_TOKEN: 't', WECOM_AIBOT_ENCODING_AES_KEY: 'a'.repeat(43) }).sandboxEnabled).toBe(false);
    expect(loadConfig({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's', SANDBOX: 'on' }).sandboxEnabled).toBe(true);
  });

  it('DINGTALK_SIGN_WINDOW_SECONDS: 300 by default, 30–3600 accepted, anything else named with its fix', () => {
    expect(loadConfig({}).DINGTALK_SIGN_WINDOW_SECONDS).toBe(300);
    expect(loadConfig({ DINGTALK_SIGN_WINDOW_SECONDS: '60' }).DINGTALK_SIGN_WINDOW_SECONDS).toBe(60);
    expect(() => loadConfig({ DINGTALK_SIGN_WINDOW_SECONDS: '7200' })).toThrow(/DINGTALK_SIGN_WINDOW_SECONDS：太大，最大为 3600[\s\S]*NTP/);
    expect(() => loadConfig({ DINGTALK_SIGN_WINDOW_SECONDS: '5' })).toThrow(/DINGTALK_SIGN_WINDOW_SECONDS：太小/);
  });

  it('strips a trailing slash from base URLs', () => {
    expect(loadConfig({ WECOM_API_BASE: 'http://127.0.0.1:8080/' }).WECOM_API_BASE).toBe('http://127.0.0.1:8080');
  });

  it('names half-configured credentials without echoing secrets', () => {
    let err: unknown;
    try {
      loadConfig({ WECOM_TOKEN: 'tok', DINGTALK_APP_SECRET: 'super-secret-value', WECOM_AIBOT_ENCODING_AES_KEY: 'short' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as ConfigError).message;
    expect(text).toContain('WECOM_AIBOT_ENCODING_AES_KEY');
    expect(text).not.toContain('super-secret-value');
    let err2: unknown;
    try {
      loadConfig({ WECOM_TOKEN: 'tok', DINGTALK_APP_SECRET: 'super-secret-value' });
    } catch (e) {
      err2 = e;
    }
    expect((err2 as ConfigError).problems.join('\n')).toMatch(/WECOM_ENCODING_AES_KEY[\s\S]*DINGTALK_APP_KEY/);
    expect((err2 as ConfigError).message).not.toContain('super-secret-value');
  });

  it('mounts DingTalk HTTP events only with the app, the event Token and aes_key; names what is missing', () => {
    const app = { DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's' };
    const aes = 'b'.repeat(43);
    const c = loadConfig({ ...app, DINGTALK_EVENT_TOKEN: 'event-token-secret', DINGTALK_EVENT_AES_KEY: aes });
    expect(c.DINGTALK_EVENT_PATH).toBe('/dingtalk/events');
    expect(configuredPlatforms(c).dingtalkEvents).toBe(true);
    // Events are independent of how robot messages arrive.
    expect(configuredPlatforms(loadConfig({ ...app, DINGTALK_MODE: 'stream', DINGTALK_EVENT_TOKEN: 't', DINGTALK_EVENT_AES_KEY: aes })).dingtalkEvents).toBe(true);
    expect(configuredPlatforms(loadConfig(app)).dingtalkEvents).toBe(false);

    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return '';
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).message;
      }
    };
    expect(problems({ ...app, DINGTALK_EVENT_TOKEN: 'event-token-secret' })).toContain('DINGTALK_EVENT_AES_KEY');
    expect(problems({ DINGTALK_EVENT_TOKEN: 'event-token-secret', DINGTALK_EVENT_AES_KEY: aes })).toMatch(/DINGTALK_EVENT_TOKEN[\s\S]*DINGTALK_APP_KEY/);
    expect(problems({ ...app, DINGTALK_EVENT_TOKEN: 't', DINGTALK_EVENT_AES_KEY: aes, DINGTALK_EVENT_PATH: '/dingtalk/callback' })).toContain('DINGTALK_EVENT_PATH');
    const short = problems({ ...app, DINGTALK_EVENT_TOKEN: 't', DINGTALK_EVENT_AES_KEY: 'tooShortSecretValue' });
    expect(short).toContain('DINGTALK_EVENT_AES_KEY');
    expect(short).not.toContain('tooShortSecretValue');
    expect(problems({ ...app, DINGTALK_EVENT_TOKEN: 'event-token-secret' })).not.toContain('event-token-secret');
  });

  it('refuses stream mode without app credentials', () => {
    expect(() => loadConfig({ DINGTALK_MODE: 'stream' })).toThrow(/DINGTALK_MODE/);
  });

  it('refuses a DingTalk card template outside Stream mode (the clicks could not reach the bot)', () => {
    const app = { DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's', DINGTALK_CARD_TEMPLATE_ID: 'tpl.schema' };
    expect(() => loadConfig(app)).toThrow(/DINGTALK_CARD_TEMPLATE_ID[\s\S]*DINGTALK_MODE=stream/);
    expect(loadConfig({ ...app, DINGTALK_MODE: 'stream' }).DINGTALK_CARD_TEMPLATE_ID).toBe('tpl.schema');
  });
});
