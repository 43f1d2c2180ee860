import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { presetParameters } from '../presets.js';
import { microRun } from '../test-utils/checkpoints.js';
import { micro, tempDir, textFile } from '../test-utils/fixtures.js';
import { checkOut, estimateStageBytes, freeBytes } from './disk.js';

const { cpu } = await testDevices();

/** Bytes of the files under `dir`. */
function folderBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath, e.name)).size, 0);
}

describe('the pipeline’s disk checks', () => {
  it('estimates at least what a stage really writes, and not wildly more', async () => {
    const run = await microRun(cpu, 2);
    const written = folderBytes(run);
    // One stage: its checkpoint, the one kept while the next is saved, and its reports.
    const estimate = estimateStageBytes(micro, 1);
    expect(estimate).toBeGreaterThanOrEqual(written);
    expect(estimate).toBeLessThan(2 ** 20 + 4 * written);
    expect(estimateStageBytes(micro, 3) - estimateStageBytes(micro, 2)).toBe(
      12 * presetParameters(micro).total + 2 ** 20,
    );
    expect(estimateStageBytes(micro, 0)).toBe(0);
  });

  it('refuses an --out that cannot be written, with the system’s reason', () => {
    const file = textFile('a file, not a folder');
    expect(() => checkOut(join(file, 'runs'), 0, 'the stages')).toThrow(
      new RegExp(`^--out ${join(file, 'runs')}: cannot write there \\(ENOTDIR`),
    );
  });

  it('refuses a file system with too little space free, with both figures', () => {
    const out = tempDir();
    expect(() =>
      checkOut(out, 5 * 2 ** 20, 'the 2 stages to train (sft, dpo)', () => 2 ** 20),
    ).toThrow(
      `--out ${out}: 1.0 MiB free on its file system, but the 2 stages to train (sft, dpo) will write about 5.0 MiB; free some space or choose another --out`,
    );
    // The real statfs of a temporary folder: some space free, and the check passes for 1 byte.
    expect(freeBytes(out)).toBeGreaterThan(0);
    expect(() => checkOut(out, 1, 'a stage')).not.toThrow();
    expect(readdirSync(out)).toEqual([]);
  });
});
