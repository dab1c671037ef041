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
      expect(msg).toContain('DATABASE_URL: must start with postgres://');
      expect(msg).toContain('LOG_LEVEL');
      expect(msg).not.toContain('hunter2');
      expect((err as ConfigError).problems).toHaveLength(3);
    }
  });
});
