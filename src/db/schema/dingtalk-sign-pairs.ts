import { index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * DingTalk robot HTTP callbacks sign only `timestamp + "\n" + appSecret`, not the body, so one
 * (timestamp, sign) header pair is bound to the first message it came with (src/platforms/dingtalk/
 * dingtalk-sign-pairs.ts). Kept in the database so every instance on one PostgreSQL agrees. The pair
 * itself is not stored, only a SHA-256 digest of it; rows past `expires_at` are removed by the
 * scheduler's upkeep.
 */
export const dingtalkSignPairs = pgTable(
  'dingtalk_sign_pairs',
  {
    pairDigest: text('pair_digest').primaryKey(),
    msgId: text('msg_id').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('dingtalk_sign_pairs_expires_idx').on(t.expiresAt)],
);
