import { AdamW } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { readOptimizerState } from './optimizer-state.js';
import { FILES, readCheckpoint, writeCheckpoint } from './run-folder.js';
import { tempDir } from './test-utils/fixtures.js';

const device = await T.createDevice({ backend: 'cpu' });

/** A checkpoint of one AdamW step on a two-number parameter, with `tensors` as its saved state. */
async function checkpoint(tensors?: Record<string, T.Tensor>) {
  const p = T.tensor([1, 2], { device }).requiresGrad_();
  const adam = new AdamW([p], { lr: 0.1 });
  T.sum(T.mul(p, p)).backward();
  adam.step();
  const { tensors: own, ...state } = adam.stateDict();
  const dir = tempDir();
  writeCheckpoint(
    dir,
    { [FILES.optimizer]: await T.saveSafetensors(tensors ?? own) },
    {
      step: 1,
      totalSteps: 2,
      optimizer: { name: 'adamw', ...state },
    },
  );
  return readCheckpoint<Parameters<typeof readOptimizerState>[0]['state']>(dir);
}

describe('readOptimizerState', () => {
  it('reads the state tensors and the fields of tessera.json (without the optimizer’s name)', async () => {
    const state = readOptimizerState(await checkpoint(), device);
    expect(state.step).toBe(1);
    expect(Object.keys(state.tensors).sort()).toEqual(['0.exp_avg', '0.exp_avg_sq']);
    expect('name' in state).toBe(false);
  });

  it('refuses a lost or non-finite state, naming the file', async () => {
    const lost = await checkpoint({});
    expect(() => readOptimizerState(lost, device)).toThrow(
      `${lost.folder}/${FILES.optimizer}: holds no tensors, but the run is at step 1: the optimizer state is lost`,
    );
    const nan = await checkpoint({ '0.exp_avg': T.tensor([Number.NaN, 0], { device }) });
    expect(() => readOptimizerState(nan, device)).toThrow(
      /optimizer state is not finite \(tensor 0\.exp_avg\[0\] = NaN\)/,
    );
  });
});
