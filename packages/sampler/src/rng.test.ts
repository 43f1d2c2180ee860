import {
  argmaxRow,
  generate,
  NonFiniteLogitsError,
  processLogits,
  processorChain,
  sampleIndex,
  softmaxRow,
} from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { Rng } from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { BigramLM, CHI2_999, chiSquare } from './test-utils/toy-models.js';

const cpu = await T.createDevice({ backend: 'cpu' });

describe('argmaxRow', () => {
  it('takes the first of tied maxima', () => {
    expect(argmaxRow([1, 3, 3, -1])).toBe(1);
    expect(argmaxRow(Float32Array.from([Number.NEGATIVE_INFINITY, -5]))).toBe(1);
  });
});

describe('sampleIndex', () => {
  it('sampled frequencies match the processed distribution (chi-square)', () => {
    const logits = Float32Array.from([1, 0.5, 2, -1, 0, 1.5]);
    const processed = processLogits(
      logits,
      { ids: [], step: 0 },
      processorChain({ temperature: 0.8, topK: 5 }),
    );
    const p = softmaxRow(processed);
    const rng = new Rng(1234);
    const n = 20000;
    const counts = new Array(6).fill(0);
    for (let i = 0; i < n; i++) counts[sampleIndex(p, rng)]++;
    const { stat, dof } = chiSquare(counts, p, n);
    expect(stat).toBeLessThan(CHI2_999[dof]!);
  });
});

describe('sampleIndex errors', () => {
  it('refuses a row where every probability is 0', () => {
    expect(() => sampleIndex([0, 0], new Rng(1))).toThrow(/every token has probability 0/);
  });
});

describe('logits that are not finite', () => {
  it('argmaxRow and sampleIndex name the first NaN or +Infinity, never a probability-0 error', () => {
    expect(() => argmaxRow([1, Number.NaN, 2])).toThrow(
      new NonFiniteLogitsError(1, Number.NaN).message,
    );
    expect(() => argmaxRow([1, Number.NaN, 2])).toThrow(
      'sampler: logits are not finite (NaN at token 1)',
    );
    expect(() => argmaxRow([Number.POSITIVE_INFINITY, 0])).toThrow(
      'sampler: logits are not finite (Infinity at token 0)',
    );
    expect(argmaxRow([Number.NEGATIVE_INFINITY, 0])).toBe(1); // -Infinity masks a token
    expect(() => sampleIndex([0.5, Number.NaN], new Rng(1))).toThrow(NonFiniteLogitsError);
  });

  it('generation from a model whose logits are NaN says so, greedy or sampled', async () => {
    const model = new BigramLM(cpu, [
      [0, Number.NaN, 1],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    for (const temperature of [0, 0.8]) {
      const run = async () => {
        for await (const _ of generate(model, [0], { maxNewTokens: 2, temperature, seed: 1 }));
      };
      await expect(run()).rejects.toThrow('sampler: logits are not finite (NaN at token 1)');
    }
  });
});
