import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, lockHolder, takeLock } from './run-lock.js';
import { tempDir } from './test-utils/fixtures.js';

/** The pid of a process that has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('run lock', () => {
  it('records pid and host, refuses a second writer naming the holder, and is released', () => {
    const dir = tempDir();
    const release = takeLock(dir);
    const lock = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, host: hostname() });
    expect(lockHolder(dir)).toMatchObject({ pid: process.pid });
    expect(() => takeLock(dir)).toThrow(
      `${dir} is being written by process ${process.pid} on ${hostname()} since ${lock.since} (${join(dir, LOCK_FILE)}); wait for that run to end, or delete the lock file if no reference-llm process writes this folder`,
    );
    release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    takeLock(dir)();
  });

  it('clears a stale lock (its process ended); a lock of another machine counts as held', () => {
    const dir = tempDir();
    const path = join(dir, LOCK_FILE);
    const stale = { pid: deadPid(), host: hostname(), since: '2026-01-01T00:00:00.000Z' };
    writeFileSync(path, JSON.stringify(stale));
    expect(lockHolder(dir)).toBeUndefined();
    const release = takeLock(dir);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    release();
    writeFileSync(path, JSON.stringify({ ...stale, host: 'elsewhere' }));
    expect(() => takeLock(dir)).toThrow(/being written by process \d+ on elsewhere/);
    writeFileSync(path, 'not json');
    expect(() => takeLock(dir)).toThrow(/holds a lock file that cannot be read/);
  });

  it('a release leaves alone a lock another process took meanwhile', () => {
    const dir = tempDir();
    const release = takeLock(dir);
    const other = { pid: process.ppid, host: hostname(), since: new Date().toISOString() };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(other));
    release();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toEqual(other);
  });
});
