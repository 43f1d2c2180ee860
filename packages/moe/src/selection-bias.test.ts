import { updateSelectionBias } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { reference, toTensor } from './test-utils/reference.js';

const { all } = await testDevices();
const deepseek = reference.deepseek!;

describe.each(all)('updateSelectionBias ($info.backend)', (dev) => {
  it('lowers overloaded experts and raises underloaded ones by γ, as the reference', async () => {
    const bias = toTensor(deepseek.bias!, dev);
    const load = T.tensor(deepseek.counts, { device: dev });
    updateSelectionBias(bias, load, deepseek.config.rate!);
    expect(maxRelError(await bias.data(), deepseek.bias_after_update!.data)).toBeLessThan(1e-7);
  });

  it('leaves an expert exactly at the mean load alone', async () => {
    const bias = T.zeros([3], { device: dev });
    updateSelectionBias(bias, T.tensor([1, 2, 3], { device: dev }), 0.5);
    expect(await bias.toArray()).toEqual([0.5, 0, -0.5]);
  });

  it('rejects shapes and rates that do not fit', () => {
    const bias = T.zeros([3], { device: dev });
    expect(() => updateSelectionBias(bias, T.zeros([4], { device: dev }), 0.1)).toThrow(
      'updateSelectionBias: bias and load must both be [E], got [3] and [4]',
    );
    expect(() => updateSelectionBias(bias, T.zeros([3], { device: dev }), -1)).toThrow(
      'updateSelectionBias: rate must be a finite number >= 0, got -1',
    );
  });
});
