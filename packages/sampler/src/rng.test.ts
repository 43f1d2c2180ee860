import {
  argmaxRow,
  processLogits,
  processorChain,
  sampleIndex,
  softmaxRow,
} from '@tessera/sampler';
import { Rng } from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { CHI2_999, chiSquare } from './test-utils/toy-models.js';

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
