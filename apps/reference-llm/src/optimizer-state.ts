import { join } from 'node:path';
import type { BaseOptions, Optimizer, OptimizerState } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { firstNonFinite } from './finite.js';
import { type Checkpoint, type CheckpointStateBase, FILES, fileError } from './run-folder.js';

/** A checkpoint whose `tessera.json` records its optimizer's state (without the tensors, which are in `optimizer.safetensors`). */
export type WithOptimizer = CheckpointStateBase & {
  optimizer: { name?: string } & Omit<OptimizerState, 'tensors'>;
};

/** The optimizer state of a checkpoint, checked: present, finite, of the step the run is at. */
export function readOptimizerState(
  ckpt: Checkpoint<WithOptimizer>,
  device: T.Device,
): OptimizerState {
  const path = join(ckpt.folder, FILES.optimizer);
  const bytes = new Uint8Array(ckpt.read(FILES.optimizer));
  let tensors: Record<string, T.Tensor>;
  try {
    tensors = T.loadSafetensors(bytes, { device });
  } catch (e) {
    throw fileError(path, `is corrupt (${(e as Error).message})`);
  }
  if (Object.keys(tensors).length === 0 && ckpt.state.step > 0)
    throw fileError(
      path,
      `holds no tensors, but the run is at step ${ckpt.state.step}: the optimizer state is lost`,
    );
  const bad = firstNonFinite(bytes);
  if (bad) throw fileError(path, `the optimizer state is not finite (tensor ${bad})`);
  const { name: _, ...rest } = ckpt.state.optimizer;
  return { ...rest, tensors };
}

/**
 * Loads a resumed run's optimizer state into `optimizer`: the state must be of this optimizer
 * (`optimizer.optimizer` in `tessera.json`, e.g. `AdamW`), at the run's step (`updatesPerStep`
 * optimizer updates per step: PPO makes several), its tensors present and finite. A problem with
 * a field is an error naming `tessera.json` and the field; one with the tensors names
 * `optimizer.safetensors`.
 */
export async function restoreOptimizer(
  optimizer: Optimizer<BaseOptions>,
  ckpt: Checkpoint<WithOptimizer>,
  device: T.Device,
  updatesPerStep = 1,
): Promise<void> {
  const { step, optimizer: saved } = ckpt.state;
  const field = (name: string, message: string) =>
    fileError(ckpt.stateFile, `field "optimizer.${name}" ${message}`);
  if (saved?.step !== step * updatesPerStep)
    throw field(
      'step',
      `is ${JSON.stringify(saved?.step)}, but the run is at step ${step}${updatesPerStep > 1 ? ` of ${updatesPerStep} updates each` : ''}`,
    );
  const own = optimizer.stateDict();
  if (saved.optimizer !== undefined && saved.optimizer !== own.optimizer)
    throw field(
      'optimizer',
      `is ${JSON.stringify(saved.optimizer)}, but this run's optimizer is ${own.optimizer}`,
    );
  const state = readOptimizerState(ckpt, device);
  try {
    await optimizer.loadStateDict(state);
  } catch (e) {
    const message = (e as Error).message;
    throw /\btensors\b/.test(message)
      ? fileError(join(ckpt.folder, FILES.optimizer), message)
      : fileError(ckpt.stateFile, `field "optimizer" does not fit this run (${message})`);
  } finally {
    for (const t of Object.values(state.tensors)) t.dispose();
  }
}
