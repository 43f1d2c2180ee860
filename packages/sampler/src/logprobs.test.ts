import { readFileSync } from 'node:fs';
import { type CausalLM, tokenLogprobs } from '@tessera/sampler';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { TrigramLM } from './test-utils/toy-models.js';

const { all, cpu } = await testDevices();
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/logprobs.json', import.meta.url), 'utf8'),
) as {
  table: number[][];
  ids: number[][];
  from: number[];
  mask: number[][];
  weights: number[][];
  logprobs: number[][];
  grad: number[][];
};

/** A bigram model over a table tensor: the logits after token i are row i. */
const bigram = (table: Tensor): CausalLM => ({
  vocabSize: table.shape[0]!,
  device: table.device,
  forward: (ids) => T.embedding(table, ids),
});
const ids2d = (rows: number[][], device: Device) =>
  T.tensor(Int32Array.from(rows.flat()), { shape: [rows.length, rows[0]!.length], device });

describe.each(all)('tokenLogprobs ($info.backend)', (dev) => {
  it("equals PyTorch's log_softmax + gather, and its gradient, on a fixture", async () => {
    const table = T.tensor(fixture.table, { device: dev, requiresGrad: true });
    const lp = tokenLogprobs(bigram(table), ids2d(fixture.ids, dev), {
      from: fixture.from,
      mask: T.tensor(fixture.mask, { device: dev }),
    });
    expect(lp.shape).toEqual([3, 6]);
    expect(maxRelError(await lp.data(), fixture.logprobs.flat())).toBeLessThan(1e-5);
    T.sum(T.mul(lp, T.tensor(fixture.weights, { device: dev }))).backward();
    expect(maxRelError(await table.grad!.data(), fixture.grad.flat())).toBeLessThan(1e-5);
  });

  it('equals a float64 host computation from the logits, token t at position t', async () => {
    const lm = new TrigramLM(dev, 9);
    const rows = [
      [1, 4, 2, 8, 0, 3, 3],
      [5, 5, 7, 1, 2, 6, 0],
    ];
    const ids = ids2d(rows, dev);
    const lp = await tokenLogprobs(lm, ids, { from: 2 }).data();
    const logits = (await lm.forward(ids).toArray()) as number[][][];
    rows.forEach((row, b) => {
      row.forEach((token, t) => {
        let want = 0;
        if (t >= 2) {
          const z = logits[b]![t - 1]!;
          const max = Math.max(...z);
          want = z[token]! - max - Math.log(z.reduce((s, x) => s + Math.exp(x - max), 0));
        }
        expect(lp[b * row.length + t]).toBeCloseTo(want, 4);
      });
    });
  });
});

describe('tokenLogprobs gradient and errors', () => {
  it('the gradient matches finite differences', async () => {
    const ids = ids2d([[0, 2, 1, 2, 3]], cpu);
    const mask = T.tensor([[1, 1, 1, 0, 1]], { device: cpu });
    const values = Array.from({ length: 16 }, (_, i) => Math.sin(i * 1.9));
    const err = await gradCheck(
      cpu,
      (table) => tokenLogprobs(bigram(table), ids, { mask }),
      [values],
      [[4, 4]],
    );
    expect(err).toBeLessThan(2e-2);
  });

  it('names bad ids, from, mask and options', () => {
    const lm = bigram(T.zeros([4, 4], { device: cpu }));
    const ids = ids2d([[0, 1, 2]], cpu);
    expect(() => tokenLogprobs(lm, T.zeros([1, 3], { device: cpu }))).toThrow(
      /ids must be i32 \[batch, T\], got f32 \[1, 3\]/,
    );
    expect(() => tokenLogprobs(lm, ids, { from: 0 })).toThrow(
      /from must be an integer >= 1, got 0/,
    );
    expect(() => tokenLogprobs(lm, ids, { from: [1, 2] })).toThrow(/from has 2 entries for 1 rows/);
    expect(() => tokenLogprobs(lm, ids, { mask: T.ones([1, 2], { device: cpu }) })).toThrow(
      /mask must be f32 \[1, 3\], got f32 \[1, 2\]/,
    );
    expect(() => tokenLogprobs(lm, ids, { start: 1 } as never)).toThrow(
      /tokenLogprobs: unknown option "start"/,
    );
  });
});
