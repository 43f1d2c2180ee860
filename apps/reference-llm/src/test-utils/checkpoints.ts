import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import { pretrain } from '../pretrain.js';
import { FILES, readCheckpoint } from '../run-folder.js';
import { data, micro, tempDir } from './fixtures.js';

/** A run folder of the micro preset trained for `steps` steps (a checkpoint the commands can read). */
export async function microRun(device: T.Device, steps = 2): Promise<string> {
  const out = tempDir();
  await pretrain({ preset: micro, out, steps, data, device, sink: { write: () => {} } });
  return out;
}

/**
 * A copy of run folder `dir` whose `model.norm.weight` is 3e38: every weight finite (the load
 * checks pass), but the forward pass overflows f32 and the logits are NaN. Its SHA-256 is
 * recorded, as a consistent checkpoint would have it.
 */
export async function overflowingCopy(dir: string): Promise<string> {
  const copy = tempDir();
  cpSync(dir, copy, { recursive: true });
  const { folder, stateFile } = readCheckpoint(copy);
  const cpu = await T.createDevice({ backend: 'cpu' });
  const weights = T.loadSafetensors(new Uint8Array(readFileSync(join(folder, FILES.model))), {
    device: cpu,
  });
  weights['model.norm.weight'] = T.full(weights['model.norm.weight']!.shape, 3e38, {
    device: cpu,
  });
  const bytes = await T.saveSafetensors(weights);
  writeFileSync(join(folder, FILES.model), bytes);
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  state.files[FILES.model] = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(stateFile, JSON.stringify(state));
  return copy;
}
