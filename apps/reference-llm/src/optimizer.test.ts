import { testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { buildOptimizer } from './optimizer.js';
import { micro } from './test-utils/fixtures.js';
import { ratesUsed } from './test-utils/rates.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('buildOptimizer', () => {
  it('AdamW: the rate used over 10 steps is the warmup + cosine schedule from the preset lr', async () => {
    const model = new DecoderLM({ ...micro.model, vocabSize: micro.vocabSize }, device);
    const { optimizer, schedules } = buildOptimizer('adamw', model, micro, 10);
    expect(Object.keys(schedules)).toEqual(['adamw']);
    expect(schedules.adamw!(1)).toBeCloseTo(micro.lr, 12); // warmup of 2 steps reaches the peak
    expect(schedules.adamw!(100)).toBeCloseTo(micro.lr / 10, 12);
    // A short run decays too: its warmup is at most a tenth of the run.
    expect(
      buildOptimizer('adamw', model, { ...micro, warmupSteps: 50 }, 10).schedules.adamw!(9),
    ).toBeLessThan(micro.lr / 2);
    const [used] = await ratesUsed(optimizer, [0.1], 10);
    for (let s = 0; s < 10; s++) expect(used![s]! / schedules.adamw!(s)).toBeCloseTo(1, 2);
  });

  it('Muon: matrices follow the 0.02 schedule, embeddings and norms their own AdamW schedule', async () => {
    const model = new DecoderLM({ ...micro.model, vocabSize: micro.vocabSize }, device);
    const { optimizer, schedules } = buildOptimizer('muon', model, micro, 10);
    expect(Object.keys(schedules)).toEqual(['muon', 'muon/adamw']);
    expect(schedules.muon!(1)).toBeCloseTo(0.02, 12);
    expect(schedules['muon/adamw']!(1)).toBeCloseTo(micro.lr, 12);
    // Before the fix both groups ran at one rate: the AdamW schedule on the matrices, a constant on the rest.
    const [matrices, rest] = await ratesUsed(optimizer, [0.01, 0.1], 10);
    for (let s = 0; s < 10; s++) {
      expect(matrices![s]! / schedules.muon!(s)).toBeCloseTo(1, 2);
      expect(rest![s]! / schedules['muon/adamw']!(s)).toBeCloseTo(1, 2);
    }
  });
});
