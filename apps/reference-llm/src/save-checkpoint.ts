import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BaseOptions, Optimizer } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { type Tokenizer, toHuggingFaceJson } from '@tessera/tokenizer';
import { firstNonFinite } from './finite.js';
import { type CheckpointStateBase, FILES, writeCheckpoint } from './run-folder.js';

/**
 * The files that make a step folder loadable by Hugging Face beside the weights: `tokenizer.json`
 * and `config.json` (`llamaConfig`, or a reward model's `rewardModelConfig`).
 */
export function huggingFaceFiles(
  tokenizer: Tokenizer,
  config: Record<string, unknown>,
): Record<string, string> {
  return {
    [FILES.tokenizer]: toHuggingFaceJson(tokenizer),
    [FILES.hfConfig]: `${JSON.stringify(config, null, 1)}\n`,
  };
}

/** What a stage saves at a checkpoint. */
export interface CheckpointContents<S> {
  /** Safetensors files of weights (`model.safetensors`, a value model's…): checked finite. */
  weights: Record<string, Uint8Array>;
  /** Every other file (tokenizer, Hugging Face config, an adapter). */
  files: Record<string, Uint8Array | string>;
  /** Its state tensors go to `optimizer.safetensors`, the rest into `tessera.json` field `optimizer`. */
  optimizer: Optimizer<BaseOptions>;
  /** Recorded as `optimizer.name` (pretraining's choice of optimizer). */
  optimizerName?: string;
  /** The stage's `tessera.json` fields besides `format`, `version`, `files` and `optimizer`. */
  state: S;
}

/**
 * Saves a checkpoint of pretraining or a tuning stage atomically (`writeCheckpoint`): the weights,
 * the other files, the optimizer state and `tessera.json`. Weights that are not finite are never
 * saved: the error (prefixed by `stage`) names the tensor and says whether the previous
 * checkpoint is kept.
 */
export async function saveCheckpoint<
  S extends Omit<CheckpointStateBase, 'format' | 'version' | 'files'>,
>(out: string, stage: string, c: CheckpointContents<S>): Promise<void> {
  for (const [name, bytes] of Object.entries(c.weights)) {
    const bad = firstNonFinite(bytes);
    if (bad)
      throw new Error(
        `${stage}: refusing to save weights that are not finite at step ${c.state.step} (${name}: tensor ${bad}); ${existsSync(join(out, FILES.pointer)) ? `the previous checkpoint in ${out} is kept` : 'no checkpoint was written'}`,
      );
  }
  const { tensors, ...optimizerState } = c.optimizer.stateDict();
  writeCheckpoint(
    out,
    { ...c.weights, ...c.files, [FILES.optimizer]: await T.saveSafetensors(tensors) },
    {
      ...c.state,
      optimizer: {
        ...(c.optimizerName !== undefined && { name: c.optimizerName }),
        ...optimizerState,
      },
    },
  );
}
