import { join } from 'node:path';
import type { OptimizerState } from '@tessera/optim';
import type { Device } from '@tessera/tensor-webgpu';
import { ViT, type ViTConfig } from '@tessera/vit';
import { firstNonFinite } from './finite.js';
import type { History } from './loop.js';
import {
  type Checkpoint,
  type CheckpointStateBase,
  FILES,
  fileError,
  readCheckpoint,
} from './run-folder.js';

/** How `vit train` trains: the same for the ViT and the MLP baseline. */
export interface VitRecipe {
  steps: number;
  batchSize: number;
  /** Peak learning rate of AdamW (β 0.9, 0.999, weight decay 0.05), after 5% warmup, cosine to a tenth. */
  lr: number;
  /** Random shift of each training image, in pixels along each axis. */
  shift: number;
  seed: number;
}

/** `tessera.json` of a `vit train` checkpoint. */
export interface VitState extends CheckpointStateBase {
  stage: 'vit';
  /** The model's config as given to `ViT` (before defaults). */
  model: ViTConfig;
  recipe: VitRecipe;
  /** The MNIST split the run trained and tested on. */
  split: { train: number; test: number; seed: number };
  optimizer: Omit<OptimizerState, 'tensors'>;
  history: History;
}

/**
 * The ViT of a `vit train` checkpoint (in evaluation mode), and the checkpoint: `stage` must be
 * "vit", the weights the ones saved with it (their SHA-256) and finite. Errors name the file and
 * the field.
 */
export function readVit(dir: string, device?: Device): { vit: ViT; ckpt: Checkpoint<VitState> } {
  const ckpt = readCheckpoint<VitState>(dir);
  if (ckpt.state.stage !== 'vit')
    throw fileError(
      ckpt.stateFile,
      `field "stage" is ${JSON.stringify(ckpt.state.stage)}: not a checkpoint of vit train`,
    );
  let vit: ViT;
  try {
    vit = new ViT(ckpt.state.model, device);
  } catch (e) {
    throw fileError(
      ckpt.stateFile,
      `field "model" is not a valid ViT config (${(e as Error).message})`,
    );
  }
  loadVitWeights(ckpt, vit);
  vit.eval();
  return { vit, ckpt };
}

/** Loads a checkpoint's `model.safetensors` into `vit`, checked finite; errors name the file. */
export function loadVitWeights(ckpt: Checkpoint<VitState>, vit: ViT): void {
  const path = join(ckpt.folder, FILES.model);
  const bytes = new Uint8Array(ckpt.read(FILES.model));
  try {
    vit.load(bytes);
  } catch (e) {
    throw fileError(path, `is corrupt or does not match the config (${(e as Error).message})`);
  }
  const bad = firstNonFinite(bytes);
  if (bad) throw fileError(path, `the checkpoint's weights are not finite (tensor ${bad})`);
}
