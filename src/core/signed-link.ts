import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client';
import { appSecrets, linkRevocations, linkUses } from '../db/schema';

/**
 * Signed links handed out in chat (看板, CSV exports): no passwords, the link itself is the permission.
 * A token is `base64url(JSON claims).base64url(HMAC-SHA256(claims))`. Hand-written rather than a JWT
 * library: we need one algorithm, one key and two database checks (revocation, single use), and a JWT
 * library's algorithm negotiation is exactly the surface we do not want on an unauthenticated URL.
 */

export interface LinkClaims {
  /** What the link opens, e.g. `kanban`, `export`. A token for one purpose never opens another. */
  purpose: string;
  /** Who it was issued to (the roster userid); permissions are re-read from the roster on each use. */
  userid: string;
  /** Purpose-specific scope, e.g. `{ kind: 'report', month: '2026-11' }`. */
  scope?: Record<string, string>;
  /** Issued at / expires at, epoch milliseconds. */
  iat: number;
  exp: number;
  /** Token id (for single use). */
  jti: string;
}

export type LinkRefusal = 'malformed' | 'forged' | 'expired' | 'revoked' | 'used' | 'wrong-purpose';

export type LinkCheck = { ok: true; claims: LinkClaims } | { ok: false; reason: LinkRefusal };

/** Chinese words for a refused link, for the page or the 4xx answer. */
export const LINK_REFUSAL_TEXT: Record<LinkRefusal, string> = {
  malformed: '链接不完整，请回到群里重新获取。',
  forged: '链接无效（签名不符），请回到群里重新获取。',
  expired: '链接已过期，请回到群里重新获取。',
  revoked: '链接已注销，请回到群里重新获取。',
  used: '链接已使用过，请回到群里重新获取。',
  'wrong-purpose': '链接无效，请回到群里重新获取。',
};

const SECRET_NAME = 'link';

export interface LinkSigner {
  sign(tx: Db, input: { purpose: string; userid: string; scope?: Record<string, string>; ttlMs: number; now: Date }): Promise<string>;
  /**
   * Checks signature, purpose, expiry and revocation; with `once`, records the token's use in the
   * same statement that checks it, so two instances cannot both accept it.
   */
  verify(tx: Db, token: string, input: { purpose: string; now: Date; once?: boolean }): Promise<LinkCheck>;
  /** Refuses every link of (purpose, userid) issued up to now. */
  revoke(tx: Db, input: { purpose: string; userid: string; now: Date }): Promise<void>;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function createLinkSigner(opts: { secret?: string } = {}): LinkSigner {
  let cached: Buffer | undefined = opts.secret ? Buffer.from(opts.secret, 'utf8') : undefined;

  async function key(tx: Db, now: Date): Promise<Buffer> {
    if (cached) return cached;
    // First instance to need a key creates it; everyone else reads the same row.
    await tx.insert(appSecrets).values({ name: SECRET_NAME, value: randomBytes(32).toString('base64'), createdAt: now }).onConflictDoNothing();
    const [row] = await tx.select({ value: appSecrets.value }).from(appSecrets).where(eq(appSecrets.name, SECRET_NAME));
    cached = Buffer.from(row!.value, 'base64');
    return cached;
  }

  const mac = (k: Buffer, body: string) => createHmac('sha256', k).update(body).digest();

  return {
    async sign(tx, { purpose, userid, scope, ttlMs, now }) {
      const claims: LinkClaims = { purpose, userid, ...(scope ? { scope } : {}), iat: now.getTime(), exp: now.getTime() + ttlMs, jti: randomUUID() };
      const body = b64(JSON.stringify(claims));
      return `${body}.${b64(mac(await key(tx, now), body))}`;
    },

    async verify(tx, token, { purpose, now, once }) {
      const m = /^([A-Za-z0-9_-]{10,4000})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
      if (!m) return { ok: false, reason: 'malformed' };
      const [, body, sig] = m as unknown as [string, string, string];
      // Compared as text: base64url's last character carries spare bits, so decoding first would let
      // four spellings of one signature pass.
      const expected = Buffer.from(b64(mac(await key(tx, now), body)));
      const given = Buffer.from(sig);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
      let claims: LinkClaims;
      try {
        claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as LinkClaims;
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      if (claims.purpose !== purpose) return { ok: false, reason: 'wrong-purpose' };
      if (!(now.getTime() < claims.exp)) return { ok: false, reason: 'expired' };
      const [rev] = await tx
        .select({ at: linkRevocations.revokedAt })
        .from(linkRevocations)
        .where(and(eq(linkRevocations.purpose, purpose), eq(linkRevocations.userid, claims.userid)));
      if (rev && claims.iat <= rev.at.getTime()) return { ok: false, reason: 'revoked' };
      if (once) {
        const used = await tx.insert(linkUses).values({ tokenId: claims.jti, usedAt: now }).onConflictDoNothing().returning();
        if (used.length === 0) return { ok: false, reason: 'used' };
      }
      return { ok: true, claims };
    },

    async revoke(tx, { purpose, userid, now }) {
      await tx
        .insert(linkRevocations)
        .values({ purpose, userid, revokedAt: now })
        .onConflictDoUpdate({ target: [linkRevocations.purpose, linkRevocations.userid], set: { revokedAt: now } });
    },
  };
}
