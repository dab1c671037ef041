import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

/**
 * One owner per embedded-database directory. PGlite has no lock of its own: two processes on one
 * directory both acknowledge writes and the directory is corrupted (issue 9 #2). The owner writes a
 * lock file with its pid, host and start time; a lock whose process is gone is stale and taken over.
 */
export const LOCK_FILE = 'service-bot.lock';

interface LockInfo {
  pid: number;
  host: string;
  /** Process start time in clock ticks since boot (Linux /proc/<pid>/stat), to tell a reused pid. */
  procStart: string | null;
  startedAt: string;
  /** Random per lock: release removes the file only if it is still ours. */
  token: string;
}

export class DataDirLockedError extends Error {
  constructor(
    public readonly dir: string,
    public readonly holder: LockInfo | null,
  ) {
    const who = holder ? `进程号 ${holder.pid}，主机 ${holder.host}，启动于 ${holder.startedAt}` : '锁文件内容无法读取';
    const otherHost = holder && holder.host !== hostname();
    super(
      `数据目录 ${dir} 正被另一个服务助手进程使用（${who}）。` +
        '同一个数据目录同时只能由一个进程打开，否则数据会损坏。' +
        '请先停止那个进程，或为本进程设置另一个 DATA_DIR；需要多个实例一起运行时，请使用 PostgreSQL（DATABASE_URL）。' +
        (otherHost || !holder
          ? `如果确认那个进程已经停止，请删除 ${path.join(dir, LOCK_FILE)} 后再启动。`
          : ''),
    );
    this.name = 'DataDirLockedError';
  }
}

/** Locks held by this process (a second open in the same process is refused too). */
const heldHere = new Set<string>();

function procStart(pid: number | 'self'): string | null {
  try {
    // Field 22 (starttime); the command name (field 2) may contain spaces, so count from its ")".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return Number.isSafeInteger(v.pid) && typeof v.host === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** Whether the lock's owner is certainly gone (same host only: another host's pids mean nothing here). */
function isStale(lock: LockInfo, file: string): boolean {
  if (lock.host !== hostname()) return false;
  if (lock.pid === process.pid) return !heldHere.has(file); // a former life with our pid (e.g. pid 1 in a container)
  if (!alive(lock.pid)) return true;
  const now = procStart(lock.pid);
  return lock.procStart !== null && now !== null && now !== lock.procStart; // the pid was reused
}

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes the directory's lock or throws DataDirLockedError. The lock file appears complete or not at
 * all (written aside, then hard-linked into place: link fails if the name exists, like O_EXCL).
 */
export function lockDataDir(dir: string): DataDirLock {
  const file = path.resolve(dir, LOCK_FILE);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    procStart: procStart('self'),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  const tmp = `${file}.${process.pid}.${info.token}`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, { flag: 'wx' });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readLock(file);
      // Unreadable: a lock being replaced right now, or a damaged file; look once more, then refuse.
      if (holder && isStale(holder, file) && attempt < 3) {
        takeOver(file, holder);
        continue;
      }
      if (!holder && attempt < 1) continue;
      throw new DataDirLockedError(path.resolve(dir), holder);
    }
  } finally {
    unlinkSync(tmp);
  }
  heldHere.add(file);
  return {
    file,
    release() {
      if (!heldHere.delete(file)) return;
      removeIfSame(file, info);
    },
  };
}

/**
 * Move a stale lock aside and delete it. Two processes may find the same stale lock: whoever moves
 * aside a lock that is not the stale one (the other process's fresh lock) puts it back.
 */
function takeOver(file: string, stale: LockInfo): void {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // gone already: the next attempt links ours
  }
  const moved = readLock(aside);
  if (!moved || moved.token !== stale.token) {
    try {
      linkSync(aside, file);
    } catch {
      // the name was taken meanwhile; that owner holds the directory
    }
  }
  unlinkSync(aside);
}

/** Remove the lock file only if it still holds `expected` (never a lock another process just took). */
function removeIfSame(file: string, expected: LockInfo): void {
  const now = readLock(file);
  if (now && now.token === expected.token && now.pid === expected.pid) {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }
}
