import { mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Preset, presetParameters } from '../presets.js';

/** Bytes of reports, charts and evaluation a stage writes besides its checkpoints (a generous bound). */
const REPORT_BYTES = 2 ** 20;

/**
 * Bytes the training stages will write, at most: each stage's run folder ends with one
 * checkpoint — the f32 weights and AdamW's two moments, 3 × 4 bytes a parameter of `preset` —
 * and while a stage saves, its previous checkpoint stays until the new one is in place, so one
 * more checkpoint is needed at a time; and `REPORT_BYTES` a stage.
 */
export function estimateStageBytes(preset: Preset, stages: number): number {
  if (stages === 0) return 0;
  const checkpoint = 3 * 4 * presetParameters(preset).total;
  return (stages + 1) * checkpoint + stages * REPORT_BYTES;
}

/** Free bytes for an unprivileged writer on the file system that holds `dir` (`statfs`). */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * Checks, before any training, that `out` can be written (it is created, and a file is written
 * there and removed) and that its file system has `needed` bytes free.
 *
 * @throws Error - naming `--out` and the path: not writable (with the system's reason), or less
 *   space free than needed (both figures in MiB)
 */
export function checkOut(
  out: string,
  needed: number,
  what: string,
  free: (dir: string) => number = freeBytes,
): void {
  const probe = join(out, `.tessera-write-check-${process.pid}`);
  try {
    mkdirSync(out, { recursive: true });
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (e) {
    throw new Error(`--out ${out}: cannot write there (${(e as Error).message})`);
  }
  const available = free(out);
  if (available < needed)
    throw new Error(
      `--out ${out}: ${mib(available)} free on its file system, but ${what} will write about ${mib(needed)}; free some space or choose another --out`,
    );
}
