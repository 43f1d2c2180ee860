import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The lock file of a run folder: which process writes it. */
export const LOCK_FILE = 'run.lock';

/** What `run.lock` holds. */
export interface LockHolder {
  pid: number;
  host: string;
  /** When the lock was taken (ISO 8601). */
  since: string;
}

/** Whether process `pid` of this machine is running (a process of another user counts). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | 'unreadable' {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    if (Number.isInteger(h.pid) && typeof h.host === 'string') return h as LockHolder;
  } catch {}
  return 'unreadable';
}

/**
 * The process that holds `dir`'s lock, or undefined when there is none or it is stale (its
 * process, on this machine, has ended: a crash or SIGKILL leaves the file behind). A lock of
 * another machine cannot be checked and counts as held.
 */
export function lockHolder(dir: string): LockHolder | 'unreadable' | undefined {
  const path = join(dir, LOCK_FILE);
  if (!existsSync(path)) return undefined;
  const holder = readHolder(path);
  if (holder !== 'unreadable' && holder.host === hostname() && !running(holder.pid))
    return undefined;
  return holder;
}

/** The error for a folder another process writes, naming it and the lock file. */
export function lockedError(dir: string, holder: LockHolder | 'unreadable'): Error {
  const path = join(dir, LOCK_FILE);
  const who =
    holder === 'unreadable'
      ? `holds a lock file that cannot be read (${path})`
      : `is being written by process ${holder.pid} on ${holder.host} since ${holder.since} (${path})`;
  return new Error(
    `${dir} ${who}; wait for that run to end, or delete the lock file if no reference-llm process writes this folder`,
  );
}

/**
 * Takes `dir`'s lock for this process: creates `run.lock` (pid, host, time) exclusively, after
 * removing a stale one. Returns the function that releases it (it removes the file only while it
 * is still this process's).
 *
 * @throws Error - another live process holds the lock, naming it
 */
export function takeLock(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const holder = lockHolder(dir);
  if (holder) throw lockedError(dir, holder);
  rmSync(path, { force: true }); // stale
  const mine: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    throw lockedError(dir, lockHolder(dir) ?? 'unreadable'); // another process was faster
  }
  try {
    writeSync(fd, `${JSON.stringify(mine)}\n`);
    fsyncSync(fd);
  } catch (e) {
    // A full disk: an empty lock file would block the next run, so it goes with the error.
    closeSync(fd);
    rmSync(path, { force: true });
    throw e;
  }
  closeSync(fd);
  return () => {
    const now = existsSync(path) ? readHolder(path) : undefined;
    if (
      now !== undefined &&
      now !== 'unreadable' &&
      now.pid === mine.pid &&
      now.since === mine.since
    )
      rmSync(path, { force: true });
  };
}
