import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '@tessera/tensor-webgpu';
import { DEFAULT_DATA, readText, splitText } from '../data.js';
import type { Checkpoint } from '../run-folder.js';
import type { Splits } from './datasets.js';
import { readJsonl, toJsonl } from './jsonl.js';

/**
 * The training split of the text a source checkpoint's model was pretrained on (the `line` task
 * asks about its lines): `data.path` of its `tessera.json`, the bundled text by default.
 */
export function sourceText(
  ckpt: Checkpoint<{ data?: { path?: string } } & Checkpoint['state']>,
): string {
  const path = ckpt.state.data?.path;
  return splitText(readText(path === undefined || path === 'bundled' ? DEFAULT_DATA : path)).train;
}

/** A data file a run trained or was measured on: its path and SHA-256. */
export interface DataFile {
  path: string;
  sha256: string;
}

/**
 * A stage's examples: the user's JSONL files (`--data`, `--heldout`), or the generated ones,
 * which the run keeps in `DIR/data/` so that the files it used are there to read. Returns the
 * records, each file's fingerprint (a resume checks them) and, in `pending`, the generated
 * files' text by path: nothing is written here — the run writes them once it holds its folder,
 * just before its first checkpoint (`StageLoopOptions.files`), so a run that fails its checks
 * leaves the folder (and a run it would replace) as it was.
 */
export function stageExamples<T>(
  out: string,
  names: { train: string; heldout: string },
  given: { train?: string; heldout?: string },
  generate: () => Splits<T>,
  parse: (value: unknown) => T,
): Splits<T> & { files: { train: DataFile; heldout: DataFile }; pending: Record<string, string> } {
  let generated: Splits<T> | undefined;
  const pending: Record<string, string> = {};
  const split = (name: 'train' | 'heldout'): { records: T[]; file: DataFile } => {
    const path = given[name];
    if (path !== undefined)
      return {
        records: readJsonl(path, parse, name === 'train' ? '--data' : '--heldout'),
        file: { path, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') },
      };
    generated ??= generate();
    const text = toJsonl(generated[name] as object[]);
    const target = join(out, 'data', names[name]);
    pending[target] = text;
    return {
      records: text
        .trimEnd()
        .split('\n')
        .map((line) => parse(JSON.parse(line))),
      file: { path: target, sha256: createHash('sha256').update(text).digest('hex') },
    };
  };
  const train = split('train');
  const heldout = split('heldout');
  return {
    train: train.records,
    heldout: heldout.records,
    files: { train: train.file, heldout: heldout.file },
    pending,
  };
}

/** Throws unless the data files are the ones a resumed run recorded, naming the file. */
export function checkDataFiles(
  now: Record<string, DataFile>,
  saved: Record<string, DataFile> | undefined,
  stateFile: string,
): void {
  for (const [split, file] of Object.entries(now)) {
    const was = saved?.[split];
    if (was?.sha256 !== file.sha256)
      throw new Error(
        `${file.path} is not the ${split} data the checkpoint was trained on (${stateFile} field "dataFiles.${split}": ${was?.path}, SHA-256 ${was?.sha256?.slice(0, 12)}…; this file ${file.sha256.slice(0, 12)}…)`,
      );
  }
}

/**
 * The examples of a step: `size` indices into `count` examples, taken in order from a seeded
 * shuffle of each pass (epoch) over the data, so that the same step always gets the same batch
 * (a resumed run sees what an uninterrupted one would).
 */
export function batchIndices(count: number, size: number, step: number, seed: number): number[] {
  const out: number[] = [];
  const orders = new Map<number, number[]>();
  for (let k = step * size; k < (step + 1) * size; k++) {
    const epoch = Math.floor(k / count);
    if (!orders.has(epoch)) {
      const rng = new Rng(seed * 10_007 + epoch);
      const order = Array.from({ length: count }, (_, i) => i);
      for (let i = count - 1; i > 0; i--) {
        const j = Math.floor(rng.next() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      orders.set(epoch, order);
    }
    out.push(orders.get(epoch)![k % count]!);
  }
  return out;
}

/** A row length for a batch: its longest example rounded up to a multiple of 8 (fewer distinct shapes), at most `window`. */
export function rowLength(lengths: readonly number[], window: number): number {
  return Math.min(window, Math.ceil(Math.max(2, ...lengths) / 8) * 8);
}
