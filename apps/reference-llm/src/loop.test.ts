import { describe, expect, it } from 'vitest';
import { type History, runTrainingLoop, type StopSignal, type TrainingLoop } from './loop.js';
import { Progress } from './progress.js';

/** A loop over fake steps: the loss of step s is 10 - s; records what the hooks saw. */
function fake(o: Partial<TrainingLoop<number>> = {}) {
  const seen = {
    batches: [] as number[],
    evaluated: [] as number[],
    saved: [] as number[],
    log: [] as string[],
  };
  const history: History = o.history ?? { trainLoss: [], val: [] };
  let step = o.start ?? 0;
  const loop: TrainingLoop<number> = {
    start: 0,
    total: 10,
    data: (s) => 100 + s,
    step: async (batch) => {
      seen.batches.push(batch);
      return 10 - step++;
    },
    evaluate: {
      every: 4,
      run: async () => {
        seen.evaluated.push(step);
        return { loss: step / 2 };
      },
    },
    checkpoint: {
      every: 3,
      save: async (s) => {
        seen.saved.push(s);
      },
    },
    history,
    progress: new Progress('test', o.total ?? 10, { write: (t) => seen.log.push(t) }),
    ...o,
  };
  return { loop, seen, history };
}

describe('runTrainingLoop', () => {
  it('steps through the data, evaluating and saving at the intervals and at the end', async () => {
    const { loop, seen, history } = fake();
    const r = await runTrainingLoop(loop);
    expect(r).toMatchObject({ steps: 10, stopReason: undefined });
    expect(seen.batches).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(history.trainLoss).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(seen.evaluated).toEqual([4, 8, 10]);
    expect(history.val.map((v) => v.step)).toEqual([4, 8, 10]);
    expect(seen.saved).toEqual([3, 6, 9, 10]);
  });

  it('a resumed loop starts at its step and appends to the saved history', async () => {
    const history: History = { trainLoss: [10, 9, 8, 7, 6, 5], val: [{ step: 4, loss: 2 }] };
    const { loop, seen } = fake({ start: 6, history });
    await runTrainingLoop(loop);
    expect(seen.batches).toEqual([106, 107, 108, 109]);
    expect(history.trainLoss).toHaveLength(10);
    expect(seen.saved).toEqual([9, 10]);
  });

  it('a stop request ends the run after the current step, saves it and says why', async () => {
    const stop: StopSignal = {};
    const { loop, seen } = fake({ stop });
    const step = loop.step;
    loop.step = async (b, s) => {
      if (s === 4) stop.reason = 'SIGTERM';
      return step(b, s);
    };
    const r = await runTrainingLoop(loop);
    expect(r).toMatchObject({ steps: 5, stopReason: 'SIGTERM' });
    expect(seen.saved).toEqual([3, 5]);
    expect(seen.evaluated).toEqual([4]); // no extra evaluation on a signal: stop fast
    expect(seen.log.at(-1)).toBe('stopped by SIGTERM at step 5/10\n');
  });

  it('the time limit stops the run, evaluates where it got to and saves', async () => {
    const { loop, seen } = fake({ maxSeconds: 0.05, total: 1_000_000 });
    const step = loop.step;
    loop.step = async (b, s) => {
      await new Promise((r) => setTimeout(r, 10));
      return step(b, s);
    };
    const r = await runTrainingLoop(loop);
    expect(r.stopReason).toBe('time');
    expect(seen.evaluated.at(-1)).toBe(r.steps);
    expect(seen.saved.at(-1)).toBe(r.steps);
    await expect(runTrainingLoop({ ...loop, maxSeconds: 0 })).rejects.toThrow(
      /maxSeconds must be > 0, got 0/,
    );
  });

  it('a loss that is not finite is an error and nothing more is saved', async () => {
    const { loop, seen } = fake();
    loop.step = async (_b, s) => (s === 4 ? Number.NaN : 1);
    await expect(runTrainingLoop(loop)).rejects.toThrow(
      'training: the loss became NaN at step 5; the last checkpoint (step 3) is kept',
    );
    expect(seen.saved).toEqual([3]);
  });
});
