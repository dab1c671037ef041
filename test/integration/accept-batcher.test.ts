import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAcceptBatcher } from '../../src/core/accept-batcher';
import type { InboundMessage } from '../../src/core/types';
import type { Database } from '../../src/db/client';
import { inboundMessages } from '../../src/db/schema';
import { drivers } from '../helpers/databases';

/** Group-committed inbound inserts keep the database's dedupe exact, within a batch and across them. */
describe.each(drivers)('accept batcher on $name', (driver) => {
  let database: Database;
  beforeAll(async () => {
    database = await driver.open();
  });
  afterAll(async () => database?.close());

  const msg = (id: string): InboundMessage => ({
    platform: 'wecom',
    conversationId: 'g',
    senderId: 'u',
    messageId: id,
    text: 'hi',
    mentions: [],
    receivedAt: new Date('2026-12-01T02:00:00Z'),
  });

  it('accepts each message id exactly once when 60 callbacks for 12 ids arrive together, and again later', async () => {
    const accept = createAcceptBatcher(database.db);
    const ids = Array.from({ length: 12 }, (_, i) => `batch-${i}`);
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => accept(msg(ids[i % 12]!)).then((r) => [ids[i % 12]!, r] as const)));
    const accepted = results.filter(([, r]) => r === 'accepted').map(([id]) => id);
    expect(accepted.sort()).toEqual([...ids].sort());
    expect(results.filter(([, r]) => r === 'duplicate')).toHaveLength(48);
    expect(await accept(msg('batch-3'))).toBe('duplicate');
    expect(await accept(msg('batch-new'))).toBe('accepted');
    expect(await database.db.select().from(inboundMessages)).toHaveLength(13);
  });
});
