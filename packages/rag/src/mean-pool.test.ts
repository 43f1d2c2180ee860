import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { meanPool } from './mean-pool.js';
import { backwardAsFixture, leaf, losses } from './test-utils/losses-fixture.js';

const { all } = await testDevices();

describe.each(all)('meanPool ($info.backend)', (dev) => {
  it('matches sentence-transformers mean pooling in PyTorch, values and gradients', async () => {
    const fx = losses.meanPool!;
    const hidden = leaf(dev, fx.hidden);
    const mask = T.tensor(fx.mask as number[][], { device: dev });
    const pooled = meanPool(hidden, mask);
    expect(pooled.shape).toEqual(fx.shape);
    expect(maxRelError(await pooled.data(), fx.out)).toBeLessThan(1e-5);
    backwardAsFixture(pooled);
    expect(maxRelError(await hidden.grad!.data(), fx.grads[0]!)).toBeLessThan(1e-5);
  });

  it('pools a row without real tokens to zeros', async () => {
    const pooled = meanPool(T.ones([1, 2, 3], { device: dev }), T.zeros([1, 2], { device: dev }));
    expect(Array.from(await pooled.data())).toEqual([0, 0, 0]);
  });

  it('names the shapes it expected', () => {
    expect(() =>
      meanPool(T.ones([2, 3, 4], { device: dev }), T.ones([2, 4], { device: dev })),
    ).toThrow(
      'meanPool: expected hidden [B, T, D] and mask [B, T], got hidden [2, 3, 4] and mask [2, 4]',
    );
  });
});
