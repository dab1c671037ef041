import { createHash } from 'node:crypto';
import { lt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { dingtalkSignPairs } from '../../db/schema';

/**
 * DingTalk's robot HTTP callback signs `timestamp + "\n" + appSecret` only: the body is not covered, so a
 * captured (timestamp, sign) pair would authenticate any body for the whole accepted window. Each pair
 * is therefore bound to the first msgId it arrives with: the same pair with the same msgId (a genuine
 * re-delivery) passes on to the inbound dedupe; with another msgId it is refused.
 *
 * One statement, atomic on every instance sharing the database: insert, or on conflict keep the stored
 * msgId (and hand it back), unless that row has expired, when the new message takes the pair over.
 */

export type SignPairClaim = 'bound' | 'other_message';

const digestOf = (timestamp: string, sign: string) => createHash('sha256').update(`${timestamp}\n${sign}`, 'utf8').digest('hex');

export async function claimSignPair(
  db: Db,
  pair: { timestamp: string; sign: string },
  msgId: string,
  expiresAt: Date,
  now: Date,
): Promise<SignPairClaim> {
  const t = dingtalkSignPairs;
  const nowIso = now.toISOString();
  const rows = await db
    .insert(t)
    .values({ pairDigest: digestOf(pair.timestamp, pair.sign), msgId, expiresAt })
    .onConflictDoUpdate({
      target: t.pairDigest,
      set: {
        msgId: sql`case when ${t.expiresAt} < ${nowIso}::timestamptz then excluded.msg_id else ${t.msgId} end`,
        expiresAt: sql`case when ${t.expiresAt} < ${nowIso}::timestamptz then excluded.expires_at else ${t.expiresAt} end`,
      },
    })
    .returning({ msgId: t.msgId });
  return rows[0]?.msgId === msgId ? 'bound' : 'other_message';
}

/** Scheduler upkeep: forget pairs whose window has passed. Returns how many were removed. */
export async function purgeExpiredSignPairs({ db, now }: { db: Db; now: Date }): Promise<number> {
  const gone = await db.delete(dingtalkSignPairs).where(lt(dingtalkSignPairs.expiresAt, now)).returning({ d: dingtalkSignPairs.pairDigest });
  return gone.length;
}
