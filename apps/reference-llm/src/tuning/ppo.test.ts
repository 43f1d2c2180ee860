import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { ppo, VALUE_FILE } from './ppo.js';
import { trainRewardModel } from './reward.js';
import { sft } from './sft.js';
import type { StageState } from './stage.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };
const chatModel = tempDir();
const rewardModel = tempDir();
await sft({
  from: await pretrainedMicro(device),
  out: chatModel,
  recipe: microRecipe,
  device,
  sink: quiet,
  steps: 4,
});
await trainRewardModel({
  from: chatModel,
  out: rewardModel,
  recipe: microRecipe,
  device,
  sink: quiet,
  steps: 4,
});
const run = (o: Partial<Parameters<typeof ppo>[0]> = {}) =>
  ppo({
    from: chatModel,
    reward: rewardModel,
    out: tempDir(),
    recipe: microRecipe,
    device,
    sink: quiet,
    ...o,
  });

describe('ppo', () => {
  it('records each step’s rollout and update figures, and saves the policy and the value model', async () => {
    const out = tempDir();
    const r = await run({ out, klTarget: 6 });
    expect(r.steps).toBe(4);
    expect(r.metrics).toHaveLength(4);
    for (const m of r.metrics) {
      for (const k of ['score', 'kl', 'entropy', 'clipFraction', 'valueLoss', 'approxKl', 'klCoef'])
        expect(Number.isFinite(m[k]), k).toBe(true);
      expect(m.entropy).toBeGreaterThan(0);
    }
    expect(r.metrics[0]!.kl).toBeCloseTo(0, 5); // the policy starts as the reference
    expect(r.metrics[0]!.klCoef).toBe(microRecipe.ppo.klCoef);
    expect(r.metrics[3]!.klCoef).not.toBe(microRecipe.ppo.klCoef); // the adaptive controller moved β
    const ckpt = readCheckpoint<StageState & { klCoef: number }>(out);
    expect(ckpt.state.klCoef).toBeGreaterThan(0);
    expect(Object.keys(ckpt.state.sources)).toEqual(['from', 'reward']);
    expect(ckpt.read(VALUE_FILE).length).toBeGreaterThan(0);
    expect(r.history.val.map((v) => v.step)).toEqual([0, 2, 4]);
    for (const f of ['report.md', 'curves.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    // report.json holds every step's figures, as the run measured them.
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.steps).toEqual(JSON.parse(JSON.stringify(r.metrics)));
  });

  it('a run stopped at step 2 and resumed ends with the figures of an uninterrupted one', async () => {
    const straight = await run();
    const out = tempDir();
    const stop: { reason?: 'SIGINT' } = {};
    const sink = {
      write: (t: string) => {
        if (t.startsWith('step 2/')) stop.reason = 'SIGINT';
      },
    };
    const first = await run({ out, stop, sink });
    expect(first.loop.steps).toBe(2);
    const resumed = await run({ out, resume: true });
    expect(resumed.metrics.map((m) => m.score)).toEqual(
      straight.metrics.map((m) => expect.closeTo(m.score!, 4)),
    );
  });

  it('refuses a --reward folder that holds no reward model', async () => {
    await expect(run({ reward: chatModel })).rejects.toThrow(
      /--reward .*: holds a sft checkpoint, not a reward model/,
    );
  });
});
