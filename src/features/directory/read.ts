import type { DirectorySnapshot, DirectorySource } from './source';

async function readAll(sources: readonly DirectorySource[]): Promise<DirectorySnapshot[]> {
  const snaps: DirectorySnapshot[] = [];
  for (const s of sources) snaps.push(await s.read());
  return snaps;
}

/** The whole read (every page of every directory) took longer than its bound. */
export class DirectoryReadTimeout extends Error {
  constructor(readonly ms: number) {
    super(`reading the directories took longer than ${ms} ms`);
  }
}

/**
 * Reads every directory within `ms` (no transaction is open while it runs). Past the bound the read is
 * abandoned (its late answer ignored) and DirectoryReadTimeout is thrown; the bound stays below the
 * request's lease, so a slow read never outlives its claim.
 */
export async function readWithin(sources: readonly DirectorySource[], ms: number): Promise<DirectorySnapshot[]> {
  const reading = readAll(sources);
  reading.catch(() => {}); // an abandoned read that fails later is no unhandled rejection
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DirectoryReadTimeout(ms)), ms);
  });
  try {
    return await Promise.race([reading, bound]);
  } finally {
    clearTimeout(timer);
  }
}
