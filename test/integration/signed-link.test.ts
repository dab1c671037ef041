import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinkSigner } from '../../src/core/signed-link';
import type { Database } from '../../src/db/client';
import { drivers } from '../helpers/databases';

const T0 = new Date('2026-11-23T02:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const HOUR = 3_600_000;

describe.each(drivers)('signed links on $name', (driver) => {
  let database: Database;
  beforeAll(async () => {
    database = await driver.open();
  });
  afterAll(async () => {
    await database?.close();
  });

  it('verifies its own token and refuses an edited, expired or other-purpose one', async () => {
    const links = createLinkSigner();
    const db = database.db;
    const token = await links.sign(db, { purpose: 'kanban', userid: 'liu', scope: { dept: '专利部' }, ttlMs: 12 * HOUR, now: T0 });
    const ok = await links.verify(db, token, { purpose: 'kanban', now: at(HOUR) });
    expect(ok).toMatchObject({ ok: true, claims: { userid: 'liu', scope: { dept: '专利部' } } });

    // Editing the claims (another userid) breaks the signature.
    const [body, sig] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
    const forgedBody = Buffer.from(JSON.stringify({ ...claims, userid: 'chen' })).toString('base64url');
    expect(await links.verify(db, `${forgedBody}.${sig}`, { purpose: 'kanban', now: at(HOUR) })).toEqual({ ok: false, reason: 'forged' });
    expect(await links.verify(db, 'not-a-token', { purpose: 'kanban', now: at(HOUR) })).toEqual({ ok: false, reason: 'malformed' });
    // Every other spelling of the signature's last character (its spare bits) is refused too.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const c of alphabet.replace(sig.at(-1)!, '')) {
      expect((await links.verify(db, `${body}.${sig.slice(0, -1)}${c}`, { purpose: 'kanban', now: at(HOUR) })).ok).toBe(false);
    }
    expect(await links.verify(db, token, { purpose: 'export', now: at(HOUR) })).toEqual({ ok: false, reason: 'wrong-purpose' });
    expect(await links.verify(db, token, { purpose: 'kanban', now: at(12 * HOUR) })).toEqual({ ok: false, reason: 'expired' });

    // A second signer on the same database (another instance) shares the stored key.
    expect((await createLinkSigner().verify(db, token, { purpose: 'kanban', now: at(HOUR) })).ok).toBe(true);
    // A signer with another key does not accept it.
    expect(await createLinkSigner({ secret: 'x'.repeat(32) }).verify(db, token, { purpose: 'kanban', now: at(HOUR) })).toEqual({ ok: false, reason: 'forged' });
  });

  it('refuses links issued before a revocation, accepts later ones', async () => {
    const links = createLinkSigner();
    const db = database.db;
    const old = await links.sign(db, { purpose: 'kanban', userid: 'li', ttlMs: 12 * HOUR, now: T0 });
    await links.revoke(db, { purpose: 'kanban', userid: 'li', now: at(1000) });
    expect(await links.verify(db, old, { purpose: 'kanban', now: at(2000) })).toEqual({ ok: false, reason: 'revoked' });
    const fresh = await links.sign(db, { purpose: 'kanban', userid: 'li', ttlMs: 12 * HOUR, now: at(3000) });
    expect((await links.verify(db, fresh, { purpose: 'kanban', now: at(4000) })).ok).toBe(true);
    // Another person's links are untouched.
    const other = await links.sign(db, { purpose: 'kanban', userid: 'zhang', ttlMs: HOUR, now: T0 });
    expect((await links.verify(db, other, { purpose: 'kanban', now: at(2000) })).ok).toBe(true);
  });

  it('a single-use link works once, even when two uses race', async () => {
    const links = createLinkSigner();
    const db = database.db;
    const token = await links.sign(db, { purpose: 'export', userid: 'chen', ttlMs: 24 * HOUR, now: T0 });
    const results = await Promise.all([1, 2, 3].map(() => links.verify(db, token, { purpose: 'export', now: at(HOUR), once: true })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => (r.ok ? '' : r.reason))).toEqual(['used', 'used']);
  });
});
