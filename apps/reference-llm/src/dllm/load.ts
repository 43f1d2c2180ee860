import { join } from 'node:path';
import { MaskedDiffusionLM } from '@tessera/dllm';
import type { Device } from '@tessera/tensor-webgpu';
import type { Tokenizer } from '@tessera/tokenizer';
import { loadWeights, type ModelState, readTokenizer } from '../load.js';
import { type Checkpoint, FILES, fileError, readCheckpoint } from '../run-folder.js';
import { MASK_TOKEN } from './tokenizer.js';

/** The diffusion model the app trains: `@tessera/dllm`'s mask predictor. */
export type DiffusionModel = MaskedDiffusionLM;

/** What a diffusion checkpoint's `tessera.json` holds about the model. */
export interface DiffusionModelState extends ModelState {
  stage: 'dllm';
  /** The mask token's id (`<|mdm_mask|>` in the tokenizer). */
  maskId: number;
}

/**
 * The diffusion model of a checkpoint: built from `tessera.json` (`model`, `maskId`), weights
 * loaded and checked finite. Errors name the file and the field or tensor.
 */
export function readDiffusionModel(
  ckpt: Checkpoint<DiffusionModelState>,
  device?: Device,
): DiffusionModel {
  const { model: config, maskId, stage } = ckpt.state;
  if (stage !== 'dllm')
    throw fileError(
      ckpt.stateFile,
      `field "stage" is ${JSON.stringify(stage)}, expected "dllm" (a diffusion model; train one with \`dllm train\`)`,
    );
  let model: DiffusionModel;
  try {
    model = new MaskedDiffusionLM(config, { maskId }, device);
  } catch (e) {
    throw fileError(
      ckpt.stateFile,
      `fields "model" and "maskId" are not valid (${(e as Error).message})`,
    );
  }
  loadWeights(ckpt, model);
  return model;
}

/** The tokenizer of a diffusion checkpoint, checked: the model's vocabulary, its mask token at `maskId`. */
export function readDiffusionTokenizer(
  ckpt: Checkpoint<DiffusionModelState>,
  model: DiffusionModel,
): Tokenizer {
  const tokenizer = readTokenizer(ckpt, model.vocabSize);
  if (tokenizer.specialTokens[MASK_TOKEN] !== model.maskId)
    throw fileError(
      join(ckpt.folder, FILES.tokenizer),
      `has ${MASK_TOKEN} at ${tokenizer.specialTokens[MASK_TOKEN]}, the model's mask id is ${model.maskId} (${FILES.state} field maskId)`,
    );
  return tokenizer;
}

/** A trained diffusion model (in eval mode) and its tokenizer, from a run folder. */
export function loadDiffusionCheckpoint(
  dir: string,
  device?: Device,
): { model: DiffusionModel; tokenizer: Tokenizer } {
  const ckpt = readCheckpoint<DiffusionModelState>(dir);
  const model = readDiffusionModel(ckpt, device);
  model.eval();
  return { model, tokenizer: readDiffusionTokenizer(ckpt, model) };
}
