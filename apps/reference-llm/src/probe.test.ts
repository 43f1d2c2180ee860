import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { buildOptimizer } from './optimizer.js';
import { presetBudget } from './presets.js';
import { TrainingProbe, timeByOp } from './probe.js';
import { micro } from './test-utils/fixtures.js';
import { ratesUsed } from './test-utils/rates.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

describe('training probe (the profile command)', () => {
  it('steps, measures and attributes a step to kernels', async () => {
    const probe = new TrainingProbe(micro, device);
    const first = await probe.step();
    // Random tokens: the first loss is near ln(vocab).
    expect(first).toBeGreaterThan(Math.log(micro.vocabSize) - 1);
    expect(first).toBeLessThan(Math.log(micro.vocabSize) + 1);
    let calls = 0;
    expect(await probe.throughput(2, () => calls++)).toBeGreaterThan(0);
    expect([calls, probe.stepsTaken]).toEqual([2, 3]);
    expect(probe.flopsPerStep).toBe(
      3 * probe.model.flopsPerToken(micro.seqLen).total * micro.batchSize * micro.seqLen,
    );
    const profile = await probe.profile();
    expect(profile.kernels.some((k) => k.name.startsWith('matmul'))).toBe(true);
    const byOp = timeByOp(profile);
    expect(byOp.reduce((s, o) => s + o.share, 0)).toBeCloseTo(1, 6);
    expect(byOp.map((o) => o.share)).toEqual([...byOp.map((o) => o.share)].sort((a, b) => b - a));
  });

  for (const name of ['adamw', 'muon'] as const)
    it(`${name}: each group's rate over 10 steps is pretrain's schedule for the preset's full run`, async () => {
      const probe = new TrainingProbe(micro, device, name);
      const { schedules } = buildOptimizer(name, probe.model, micro, presetBudget(micro).steps);
      const used = await ratesUsed(probe.optimizer, name === 'adamw' ? [0.1] : [0.01, 0.1], 10);
      Object.values(schedules).forEach((schedule, g) => {
        for (let s = 0; s < 10; s++) expect(used[g]![s]! / schedule(s)).toBeCloseTo(1, 2);
      });
    });
});
