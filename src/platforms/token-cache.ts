import type { Clock } from './clock';

export interface FetchedToken {
  token: string;
  expiresInSec: number;
}

/**
 * An access token cached until shortly before it expires, with one fetch in flight at a time:
 * concurrent senders share the same pending fetch, and a refresh after an "expired token" answer
 * happens once, however many senders saw the same stale token.
 */
export class TokenCache {
  private current: { token: string; expiresAt: number } | null = null;
  private inflight: Promise<string> | null = null;

  constructor(
    private readonly fetchToken: () => Promise<FetchedToken>,
    private readonly clock: Clock,
    /** Refresh this long before the platform's expiry, to absorb clock skew and slow calls. */
    private readonly marginMs = 5 * 60_000,
  ) {}

  async get(): Promise<string> {
    if (this.current && this.clock().getTime() < this.current.expiresAt) return this.current.token;
    return this.load();
  }

  /** The platform rejected `stale`: fetch a new token unless another caller already did. */
  async refresh(stale: string): Promise<string> {
    if (this.current && this.current.token !== stale && this.clock().getTime() < this.current.expiresAt) {
      return this.current.token;
    }
    if (this.current?.token === stale) this.current = null;
    return this.load();
  }

  private load(): Promise<string> {
    if (this.inflight) return this.inflight;
    this.inflight = (async () => {
      try {
        const t = await this.fetchToken();
        const lifetimeMs = Math.max(0, t.expiresInSec * 1000 - this.marginMs);
        this.current = { token: t.token, expiresAt: this.clock().getTime() + lifetimeMs };
        return t.token;
      } finally {
        this.inflight = null;
      }
    })();
    return this.inflight;
  }
}
