import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { instructionData, preferenceData, type SplitSizes } from './datasets.js';
import { writeJsonl } from './jsonl.js';

/** The files `writeTuningData` writes into a folder. */
export const DATA_FILES = {
  sftTrain: 'sft-train.jsonl',
  sftHeldout: 'sft-heldout.jsonl',
  pairsTrain: 'pairs-train.jsonl',
  pairsHeldout: 'pairs-heldout.jsonl',
} as const;

/**
 * Generates the instruction data and the preference pairs from `seed` (the `line` task reads
 * `text`) and writes both splits of each as JSONL into `dir`. Returns the files' paths.
 */
export function writeTuningData(
  dir: string,
  seed: number,
  text: string,
  sizes: { sft: SplitSizes; pairs: SplitSizes },
): Record<keyof typeof DATA_FILES, string> {
  mkdirSync(dir, { recursive: true });
  const sft = instructionData(seed, text, sizes.sft);
  const pairs = preferenceData(seed, text, sizes.pairs);
  const paths = Object.fromEntries(
    Object.entries(DATA_FILES).map(([k, name]) => [k, join(dir, name)]),
  ) as Record<keyof typeof DATA_FILES, string>;
  writeJsonl(paths.sftTrain, sft.train);
  writeJsonl(paths.sftHeldout, sft.heldout);
  writeJsonl(paths.pairsTrain, pairs.train);
  writeJsonl(paths.pairsHeldout, pairs.heldout);
  return paths;
}
