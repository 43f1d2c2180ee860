import { diffusionNll, MaskedDiffusionLM } from '@tessera/dllm';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { reference, ToyDiffusionLM } from './test-utils/fixture.js';

const { cpu, underTest } = await testDevices();
const MASK = reference.toy.maskId;

/** −log softmax(logits)[target] of each listed position, from the model's logits read back. */
async function crossEntropies(model: ToyDiffusionLM, canvas: number[], positions: number[]) {
  const x = T.tensor(Int32Array.from(canvas), { shape: [1, canvas.length], device: model.device });
  const logits = await model.forward(x).data();
  const v = model.vocabSize;
  return (target: number[]) =>
    positions.map((i) => {
      const row = Array.from(logits.slice(i * v, (i + 1) * v));
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, l) => s + Math.exp(l - max), 0));
      return lse - row[target[i]!]!;
    });
}

/**
 * The bound by enumeration: E over k ~ U{1..n} and the k-subsets M of the scored positions of
 * (n/k)·Σ_{i∈M} CE_i(x with M masked) = Σ_k mean_M(Σ_{i∈M} CE_i) / k.
 */
async function exactBound(model: ToyDiffusionLM, row: number[], from: number): Promise<number> {
  const scored = row.map((_, i) => i).filter((i) => i >= from);
  const n = scored.length;
  const byK = new Map<number, number[]>();
  for (let bits = 1; bits < 1 << n; bits++) {
    const subset = scored.filter((_, j) => bits & (1 << j));
    const canvas = row.map((id, i) => (subset.includes(i) ? MASK : id));
    const ce = (await crossEntropies(model, canvas, subset))(row);
    const list = byK.get(subset.length) ?? [];
    list.push(ce.reduce((a, b) => a + b, 0));
    byK.set(subset.length, list);
  }
  let bound = 0;
  for (const [k, sums] of byK) bound += sums.reduce((a, b) => a + b, 0) / sums.length / k;
  return bound;
}

describe('diffusionNll', () => {
  const row = [3, 7, 1, 9];

  it('one scored position: exactly its cross-entropy with it masked (k = n = 1, weight 1)', async () => {
    const model = new ToyDiffusionLM(cpu);
    const [estimate] = await diffusionNll(model, [row], { from: 3, samples: 2 });
    const [ce] = (await crossEntropies(model, [3, 7, 1, MASK], [3]))(row);
    expect(estimate).toBeCloseTo(ce!, 5);
  });

  it('its mean is the masked diffusion bound, computed by enumerating every mask', async () => {
    const model = new ToyDiffusionLM(cpu);
    for (const from of [0, 1]) {
      const exact = await exactBound(model, row, from);
      const rows = new Array(64).fill(row);
      const samples = 12; // a multiple of n: the stratified k visit 1..n equally in every row
      const estimates = await diffusionNll(model, rows, { from, samples, seed: 5 });
      const mean = estimates.reduce((a, b) => a + b, 0) / estimates.length;
      expect(Math.abs(mean - exact) / exact).toBeLessThan(0.02);
    }
  });

  it.each(underTest)(
    "is the CPU reference's for a seed (a real model; $info.backend)",
    async (dev) => {
      const config = { vocabSize: 30, dModel: 32, layers: 1, heads: 4, maxSeqLen: 16, seed: 2 };
      const rows = [
        [1, 5, 9, 2, 6, 5, 3, 5],
        [8, 9, 7, 9, 3, 2, 3, 8],
      ];
      const run = async (device: T.Device) => {
        const model = new MaskedDiffusionLM(config, { maskId: 29 }, device);
        const r = await diffusionNll(model, rows, { from: 2, samples: 3, seed: 1 });
        model.dispose();
        return r;
      };
      expect(maxRelError(await run(dev), await run(cpu))).toBeLessThan(1e-4);
    },
  );

  it('names bad rows and options', async () => {
    const model = new ToyDiffusionLM(cpu);
    await expect(diffusionNll(model, [])).rejects.toThrow('diffusionNll: no rows');
    await expect(diffusionNll(model, [[1, 2], [1]])).rejects.toThrow(
      'diffusionNll: every row must have the same length (2), got one of 1',
    );
    await expect(diffusionNll(model, [[1, MASK]])).rejects.toThrow(
      `diffusionNll: id ${MASK} is not a token of the vocabulary (0..12, not the mask id 12)`,
    );
    await expect(diffusionNll(model, [[1, 2]], { from: 2 })).rejects.toThrow(
      'diffusionNll: from must be an integer in [0, 2), got 2',
    );
    await expect(diffusionNll(model, [[1, 2]], { samples: 0 })).rejects.toThrow(
      'diffusionNll: samples must be an integer >= 1, got 0',
    );
    await expect(diffusionNll(model, [[1, 2]], { mc: 3 } as never)).rejects.toThrow(
      /diffusionNll: unknown option "mc"/,
    );
  });
});
