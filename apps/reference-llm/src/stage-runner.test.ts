import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import type { History } from './loop.js';
import { FILES, readCheckpoint, writeCheckpoint } from './run-folder.js';
import { openRun, runStageLoop, type StageLoopOptions, writeRunReport } from './stage-runner.js';
import { lines, tempDir } from './test-utils/fixtures.js';

const device = await T.createDevice({ backend: 'cpu' });

/** A stage of `total` steps whose step records the run lock and the dropout seed it saw. */
function toyStage(
  out: string,
  o: Partial<StageLoopOptions<number>> & { runOptions?: object } = {},
) {
  const seen: { step: number; locked: boolean; seed: number }[] = [];
  const history: History = { trainLoss: [], val: [] };
  const options: StageLoopOptions<number> = {
    stage: 'toy',
    run: { out, sink: lines(), ...o.runOptions },
    seed: 3,
    device,
    start: 0,
    total: 4,
    history,
    evalEvery: 2,
    data: (step) => step,
    step: async (batch, step) => {
      seen.push({
        step,
        locked: existsSync(join(out, FILES.lock)),
        seed: await T.rand([1], { device }).item(),
      });
      return { loss: 1 / (batch + 1), tokens: 10 };
    },
    evaluate: async () => ({ loss: 0.5 }),
    save: async (step) =>
      writeCheckpoint(
        out,
        { [FILES.model]: `weights ${step}` },
        {
          step,
          totalSteps: 4,
          stage: 'toy',
          history,
        },
      ),
    ...o,
  };
  return { seen, options };
}

describe('openRun', () => {
  it('changes nothing; on resume checks the stage, the history and every file of the checkpoint', () => {
    const out = tempDir();
    writeCheckpoint(
      out,
      { [FILES.model]: 'w', [FILES.hfConfig]: '{}' },
      {
        step: 1,
        totalSteps: 4,
        stage: 'toy',
        history: { trainLoss: [1], val: [] },
      },
    );
    expect(openRun('toy', { out, resume: true })?.state.step).toBe(1);
    expect(() => openRun('other', { out, resume: true })).toThrow(
      /tessera\.json: field "stage" is "toy", expected "other"/,
    );
    const { folder } = readCheckpoint(out);
    writeFileSync(join(folder, FILES.hfConfig), '{"vocab_size": 999}');
    expect(() => openRun('toy', { out, resume: true })).toThrow(
      new RegExp(`^${join(folder, FILES.hfConfig)}: is not the file saved with this checkpoint`),
    );
    expect(() => openRun('toy', { out })).toThrow(/holds a checkpoint at step 1 of 4/);
    expect(openRun('toy', { out, force: true })).toBeUndefined();
    expect(readCheckpoint(out).state.step).toBe(1);
  });
});

describe('runStageLoop', () => {
  it('holds the run lock while it trains and releases it after; dropout is seeded by the run’s seed and the step', async () => {
    const out = tempDir();
    const { seen, options } = toyStage(out);
    const r = await runStageLoop(options);
    expect(r).toMatchObject({ steps: 4, stepsRun: 4 });
    expect(seen.every((s) => s.locked)).toBe(true);
    expect(existsSync(join(out, FILES.lock))).toBe(false);
    // A run resumed at step 2 draws what the uninterrupted run drew there (the run's own seed,
    // not a flag's); another seed draws otherwise.
    const resumed = toyStage(tempDir(), { start: 2 });
    await runStageLoop(resumed.options);
    expect(resumed.seen.map((s) => s.seed)).toEqual(seen.slice(2).map((s) => s.seed));
    const other = toyStage(tempDir(), { seed: 4 });
    await runStageLoop(other.options);
    expect(other.seen[0]!.seed).not.toBe(seen[0]!.seed);
    // A failing step releases the lock too.
    const failing = toyStage(tempDir(), {
      step: async () => {
        throw new Error('boom');
      },
    });
    await expect(runStageLoop(failing.options)).rejects.toThrow('boom');
    expect(existsSync(join(failing.options.run.out, FILES.lock))).toBe(false);
  });

  it('--force keeps the replaced run until the first checkpoint of the new one is saved', async () => {
    const out = tempDir();
    writeCheckpoint(out, { [FILES.model]: 'old' }, { step: 9, totalSteps: 9 });
    writeFileSync(join(out, 'report.md'), '# old');
    const states: string[] = [];
    const data = join(out, 'data', 'train.jsonl');
    const { options } = toyStage(out, { runOptions: { force: true }, files: { [data]: '{}\n' } });
    const save = options.save;
    options.save = async (step) => {
      states.push(
        `${readCheckpoint(out).state.step} ${existsSync(join(out, 'report.md'))} ${existsSync(data)}`,
      );
      await save(step);
    };
    const claimed = runStageLoop(options);
    expect(existsSync(data)).toBe(false); // the stage's files wait for the first checkpoint
    await claimed;
    expect(states).toEqual(['9 true true', '2 false true']);
    expect(readFileSync(data, 'utf8')).toBe('{}\n');
    expect(currentStepFolder(out)).toEqual(['step-000004']);
  });

  it('a resumed run that is complete trains nothing and says so; its report is kept', async () => {
    const out = tempDir();
    const first = toyStage(out);
    const done = await runStageLoop(first.options);
    const report = {
      title: 't',
      facts: [],
      summary: {},
      history: first.options.history,
      schedules: {},
    };
    expect(writeRunReport(out, done, report)).toBe(true);
    const before = readFileSync(join(out, 'report.md'), 'utf8');
    const sink = lines();
    const again = toyStage(out, { start: 4, runOptions: { resume: true, sink } });
    const r = await runStageLoop({ ...again.options, resumed: readCheckpoint(out) });
    expect(r.stepsRun).toBe(0);
    expect(again.seen).toEqual([]);
    expect(sink.lines).toContain(`${out} is complete (step 4 of 4): nothing to train`);
    expect(writeRunReport(out, r, { ...report, title: 'other' })).toBe(false);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toBe(before);
  });
});

const currentStepFolder = (out: string) => readCheckpoint(out).folder.split('/').slice(-1);
