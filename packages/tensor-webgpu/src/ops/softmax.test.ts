import type { Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { agree, backends, cpu, rnd } from '../test-utils/agree.js';

const values = smoothValues;

describe('softmax family', () => {
  it('softmax and logSoftmax match the composite definition, on any dim', async () => {
    for (const dim of [-1, 0, 1]) {
      await agree((dev) => T.softmax(rnd(dev, [5, 300, 3], 1, 4), dim));
      await agree((dev) => T.logSoftmax(rnd(dev, [5, 300, 3], 1, 4), dim));
    }
    const x = rnd(cpu, [4, 7], 2, 3);
    const ref = T.div(T.exp(x), T.sum(T.exp(x), 1, { keepDim: true }));
    expect(maxRelError(await T.softmax(x).data(), await ref.data())).toBeLessThan(1e-6);
  });

  it('softmax is stable for huge logits', async () => {
    for (const dev of backends) {
      expect(
        Array.from(await T.softmax(T.tensor([1000, 1000, -1000], { device: dev })).data()),
      ).toEqual([0.5, 0.5, 0]);
    }
  });

  it('logsumexp equals log(sum(exp)) and is stable', async () => {
    const x = T.tensor(
      [
        [1, 2, 3],
        [1000, 1000, 1000],
      ],
      { device: cpu },
    );
    const y = await T.logsumexp(x, 1).data();
    expect(y[0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)), 5);
    expect(y[1]).toBeCloseTo(1000 + Math.log(3), 3);
  });

  it('gradients match finite differences', async () => {
    for (const f of [
      (x: Tensor) => T.softmax(x),
      (x: Tensor) => T.logSoftmax(x, 0),
      (x: Tensor) => T.logsumexp(x, 1),
    ]) {
      expect(await gradCheck(cpu, f, [values(12, 3)], [[3, 4]])).toBeLessThan(2e-2);
    }
  });
});
