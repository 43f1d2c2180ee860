import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Suffix of the temporary files `writeAtomic` makes; a file with it is debris of a crash. */
export const TEMP_MARK = '.tmp-';

/**
 * Writes a file atomically and durably: to a temporary name in the same folder, flushed to disk,
 * then renamed over the target (and the folder flushed), so a crash leaves the old file or the
 * new one, never half of one.
 */
export function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}${TEMP_MARK}${process.pid}`;
  writeDurable(tmp, data);
  renameSync(tmp, path);
  syncFolder(dirname(path));
}

/** Writes a file and flushes it to disk before returning. */
export function writeDurable(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let at = 0;
    while (at < bytes.byteLength) at += writeSync(fd, bytes, at, bytes.byteLength - at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a folder's entries (renames) to disk where the platform allows it (not Windows). */
export function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open a folder for fsync; its renames are durable on their own.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
