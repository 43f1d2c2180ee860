import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro } from '../test-utils/tuning.js';
import { ARITHMETIC_FILES } from './arithmetic.js';
import { type GrpoLossName, grpo, timeSplit } from './grpo.js';
import { sft } from './sft.js';
import type { StageState } from './stage.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };
const chatModel = tempDir();
await sft({
  from: await pretrainedMicro(device),
  out: chatModel,
  recipe: microRecipe,
  device,
  sink: quiet,
  steps: 4,
});
const run = (o: Partial<Parameters<typeof grpo>[0]> = {}) =>
  grpo({
    from: chatModel,
    loss: 'grpo',
    out: tempDir(),
    recipe: microRecipe,
    device,
    sink: quiet,
    votes: [],
    ...o,
  });

describe('grpo', () => {
  it('records each step’s figures, the held-out accuracy, the votes, and saves a checkpoint with its data', async () => {
    const out = tempDir();
    const r = await run({ out, beta: 0.04, votes: [1, 2] });
    expect(r.steps).toBe(4);
    expect(r.metrics).toHaveLength(4);
    for (const m of r.metrics) {
      for (const k of [
        'reward',
        'accuracy',
        'format',
        'length',
        'zeroStdGroups',
        'kl',
        'clipRegion',
      ])
        expect(Number.isFinite(m[k]), k).toBe(true);
      expect(m.generatedTokens).toBeGreaterThan(0);
      expect(m.trainedTokens).toBe(m.generatedTokens! * microRecipe.grpo.iterations);
      expect(m.generationSeconds).toBeGreaterThan(0);
      expect(m.trainingSeconds).toBeGreaterThan(0);
    }
    expect(r.metrics[0]!.kl).toBeCloseTo(0, 4); // the policy starts as the reference
    expect(r.history.val.map((v) => v.step)).toEqual([0, 2, 4]);
    expect(Object.keys(r.votes!.accuracy)).toEqual(['1', '2']);
    const time = timeSplit(r.metrics);
    expect(time.generationSeconds).toBeCloseTo(
      r.metrics.reduce((s, m) => s + m.generationSeconds!, 0),
      9,
    );
    const ckpt = readCheckpoint<StageState>(out);
    expect(ckpt.state.stage).toBe('grpo');
    expect(ckpt.state.optimizer.step).toBe(4 * microRecipe.grpo.iterations);
    expect(Object.keys(ckpt.state.sources)).toEqual(['from']);
    for (const f of ['report.md', 'curves.svg', join('data', ARITHMETIC_FILES.heldout)])
      expect(existsSync(join(out, f)), f).toBe(true);
    const svg = readFileSync(join(out, 'curves.svg'), 'utf8');
    for (const title of ['reward', 'accuracy', 'completion length (tokens)'])
      expect(svg).toContain(title);
  });

  for (const loss of ['dr_grpo', 'dapo'] as GrpoLossName[])
    it(`${loss}: trains without a reference (β 0: no KL)`, async () => {
      const r = await run({ loss, steps: 2, ...(loss === 'dapo' && { overlongBuffer: 2 }) });
      expect(r.metrics).toHaveLength(2);
      for (const m of r.metrics) {
        expect(m.kl).toBeUndefined();
        expect(Number.isFinite(m.reward)).toBe(true);
        if (loss === 'dapo') {
          // Refilled: every group with signal on correctness (some answers right, some wrong)
          // drawn counts, up to the batch, within 3 draws.
          const kept = Math.round(m.drawnGroups! * m.mixedGroups!);
          expect(m.groupsTrained).toBe(Math.min(2, kept));
          expect(m.draws).toBe(m.drawnGroups! / 2);
          expect(m.draws).toBeLessThanOrEqual(3);
          if (m.draws! < 3) expect(m.groupsTrained).toBe(2);
          if (kept - m.groupsTrained! > 2) expect.unreachable('a draw after the batch was full');
          // The overlong penalty (--overlong-buffer 2 of 8 tokens) is part of the reward.
          expect(m.overlong).toBeLessThan(0);
          expect(m.reward).toBeCloseTo(m.accuracy! + 0.1 * m.format! + m.overlong!, 9);
        } else {
          expect([m.groupsTrained, m.draws, m.overlong]).toEqual([2, 1, undefined]);
          expect(m.reward).toBeCloseTo(m.accuracy! + 0.1 * m.format!, 9);
        }
      }
    });

  it('dapo refills: a step whose first draw has no signal draws again', async () => {
    const r = await run({ loss: 'dapo', steps: 4 });
    expect(Math.max(...r.metrics.map((m) => m.draws!))).toBeGreaterThan(1);
    // It filters on correctness, not on the format reward: a trained group has a right answer.
    for (const m of r.metrics) {
      expect(m.mixedGroups!).toBeLessThanOrEqual(m.solvedGroups!);
      expect(m.groupsTrained!).toBeLessThanOrEqual(Math.round(m.solvedGroups! * m.drawnGroups!));
    }
    expect(
      await run({ loss: 'dapo', steps: 2, maxDraws: 1 }).then((o) => o.metrics.map((m) => m.draws)),
    ).toEqual([1, 1]);
  });

  it('rejects an overlong buffer longer than the answers may be', async () => {
    await expect(run({ loss: 'dapo', overlongBuffer: 9 })).rejects.toThrow(
      /--overlong-buffer 9 must be at most --max-new-tokens 8/,
    );
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
    const resumed = await run({ out, resume: true, loss: undefined }); // as the command passes it
    expect(resumed.metrics.map((m) => m.reward)).toEqual(
      straight.metrics.map((m) => expect.closeTo(m.reward!, 4)),
    );
    await expect(run({ out, resume: true, loss: 'dapo' })).rejects.toThrow(
      /--loss "dapo" conflicts with the checkpoint, which was started with "grpo"/,
    );
  });
});
