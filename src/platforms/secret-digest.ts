import { createHash } from 'node:crypto';

/** A short, stable name for a secret (rate keys live in the database and may be shown): never the secret. */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 16);
}
