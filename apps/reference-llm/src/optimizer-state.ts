import { join } from 'node:path';
import type { OptimizerState } from '@tessera/optim';
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
