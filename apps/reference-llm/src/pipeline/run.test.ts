import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { FILES, readCheckpoint } from '../run-folder.js';
import { microExtras } from '../test-utils/extras.js';
import { data, lines, tempDir, textFile } from '../test-utils/fixtures.js';
import { microChat, microRecipe } from '../test-utils/tuning.js';
import { readChatModel } from '../tuning/chat-model.js';
import { DATA_FILES } from '../tuning/data-files.js';
import { parsePreferenceExample, readJsonl } from '../tuning/jsonl.js';
import { likelihoodPreferenceAccuracy } from '../tuning/preference-accuracy.js';
import type { StageState } from '../tuning/stage.js';
import { DEFAULT_STAGES, type PipelineOptions, resolveStages, runPipeline } from './run.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const run = (o: Partial<PipelineOptions> & { out: string }) =>
  runPipeline({ preset: microChat, recipe: microRecipe, data, steps: 4, device, ...o });
const modelSha = (dir: string) => readCheckpoint(dir).state.files[FILES.model];
const trainedStages = DEFAULT_STAGES.filter((s) => s !== 'eval');

describe('runPipeline', () => {
  const out = tempDir();
  const first = lines();
  const done = run({ out, sink: first });

  it('runs every stage from the previous stage’s checkpoint, with one status line each and a row per stage', async () => {
    const r = await done;
    for (const stage of trainedStages) {
      const state = readCheckpoint(join(out, stage)).state as StageState;
      expect(state.step).toBe(4);
      expect(first.lines).toContain(
        first.lines.find((l) => l.startsWith(`${stage}: done, 4 steps in `)),
      );
    }
    const source = (stage: string, name = 'from') =>
      (readCheckpoint(join(out, stage)).state as StageState).sources[name]!.path;
    expect(source('sft')).toBe(join(out, 'pretrain'));
    expect([source('reward'), source('dpo'), source('ppo'), source('grpo')]).toEqual(
      Array(4).fill(join(out, 'sft')),
    );
    expect(source('ppo', 'reward')).toBe(join(out, 'reward'));
    expect(r.rows!.map((row) => row.stage)).toEqual(trainedStages);
    expect(r.final).toBe(join(out, 'grpo'));
    for (const row of r.rows!.filter((row) => row.stage !== 'reward')) {
      expect(row.bitsPerByte).toBeGreaterThan(0);
      expect(row.accuracy).toBeGreaterThanOrEqual(0);
      expect(row.arithmetic).toBeGreaterThanOrEqual(0); // GRPO's held-out problems
      expect(row.sample!.question.length).toBeGreaterThan(0);
    }
    // Preference accuracy by log-likelihood on the held-out pairs DPO wrote.
    const { model, chat } = readChatModel(readCheckpoint(join(out, 'dpo')), device);
    const pairs = readJsonl(
      join(out, 'dpo', 'data', DATA_FILES.pairsHeldout),
      parsePreferenceExample,
    );
    expect(r.rows!.find((row) => row.stage === 'dpo')!.likelihoodPreferenceAccuracy).toBe(
      await likelihoodPreferenceAccuracy(model.eval(), chat, pairs, microRecipe.dpo.batchSize),
    );
    model.dispose();
    expect(r.rows!.find((row) => row.stage === 'reward')!.preferenceAccuracy).toBe(
      JSON.parse(readFileSync(join(out, 'reward', 'report.json'), 'utf8')).after.accuracy,
    );
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.rows).toEqual(r.rows);
    // Each stage's throughput, as its own report has it.
    for (const stage of trainedStages)
      expect(report.tokensPerSecond[stage]).toBe(
        JSON.parse(readFileSync(join(out, stage, 'report.json'), 'utf8')).tokensPerSecond,
      );
    // Replies before and after each tuning stage, on the questions each row's sample starts with.
    expect(report.samples.map((x: { stage: string; from: string }) => [x.stage, x.from])).toEqual([
      ['sft', 'pretrain'],
      ['dpo', 'sft'],
      ['ppo', 'sft'],
      ['grpo', 'sft'],
    ]);
    const sample = (stage: string) => r.rows!.find((row) => row.stage === stage)!.sample!;
    const dpoSamples = report.samples[1];
    expect(dpoSamples.items[0]).toEqual({
      question: sample('dpo').question,
      before: sample('sft').reply,
      after: sample('dpo').reply,
    });
    expect(Object.keys(report.seconds)).toEqual(trainedStages);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('| pretrain | ');
  });

  it('skips every complete stage on a second run, recomputing nothing', async () => {
    await done;
    const before = trainedStages.map((s) => modelSha(join(out, s)));
    const again = lines();
    const r = await run({ out, sink: again });
    expect(again.lines.slice(0, trainedStages.length)).toEqual(
      trainedStages.map((s) => `${s}: complete in ${join(out, s)}, skipped`),
    );
    expect(again.lines.some((l) => l.startsWith('eval: measuring'))).toBe(false);
    expect(trainedStages.map((s) => modelSha(join(out, s)))).toEqual(before);
    expect(r.rows).toEqual((await done).rows);
  });
});

describe('runPipeline after an interruption', () => {
  it('resumes the interrupted stage from its checkpoint, skipping the complete ones', async () => {
    const out = tempDir();
    const stop: { reason?: 'SIGINT' } = {};
    const sink = {
      write: (t: string) => {
        if (t.startsWith('sft') && t.includes(' 2/4')) stop.reason = 'SIGINT';
      },
    };
    const stages = ['pretrain', 'sft'];
    const first = await run({ out, stages, stop, sink });
    expect(first.stopped).toEqual({ stage: 'sft', reason: 'SIGINT' });
    expect(readCheckpoint(join(out, 'sft')).state.step).toBe(2);
    const pretrained = modelSha(join(out, 'pretrain'));
    const again = lines();
    const r = await run({ out, stages, sink: again });
    expect(r.stopped).toBeUndefined();
    expect(again.lines).toContain(`pretrain: complete in ${join(out, 'pretrain')}, skipped`);
    expect(again.lines).toContain(`sft: resuming ${join(out, 'sft')} from step 2`);
    expect(readCheckpoint(join(out, 'sft')).state.step).toBe(4);
    expect(modelSha(join(out, 'pretrain'))).toBe(pretrained);

    // Ctrl-C while the eval stage measures: it stops between two stages and serves nothing;
    // the same command measures the rest, keeping what was measured.
    const evalStop: { reason?: 'SIGINT' } = {};
    const measuring = {
      write: (t: string) => {
        if (t.startsWith('eval: measuring pretrain')) evalStop.reason = 'SIGINT';
      },
    };
    const stopped = await run({ out, stages: ['eval', 'serve'], stop: evalStop, sink: measuring });
    expect(stopped).toMatchObject({ stopped: { stage: 'eval', reason: 'SIGINT' }, serve: false });
    expect(existsSync(join(out, 'report.json'))).toBe(false);
    const rest = lines();
    const measured = await run({ out, stages: ['eval'], sink: rest });
    expect(rest.lines.filter((l) => l.startsWith('eval: measuring'))).toEqual([
      'eval: measuring sft',
    ]);
    expect(measured.rows!.map((row) => row.stage)).toEqual(['pretrain', 'sft']);

    // The folder with another --preset: refused, not skipped and reported under the wrong name.
    await expect(run({ out, preset: 'tiny', stages: ['eval'] })).rejects.toThrow(
      `--out ${out}: its pretraining ran the preset ${JSON.stringify(microChat.name)}, not "tiny"; pass --preset ${microChat.name} to go on with it, or give a new --out`,
    );
  });
});

describe('runPipeline with an optional stage', () => {
  it('runs it only when asked, skips it once complete, and the report shows it beyond the chain', async () => {
    const out = tempDir();
    const first = lines();
    await run({ out, stages: ['moe', 'eval'], sink: first });
    expect(first.lines).toContain(`moe: training into ${join(out, 'moe')}`);
    expect(first.lines.some((l) => l.startsWith('moe: done, 4 steps in '))).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.extras.map((e: { stage: string }) => e.stage)).toEqual([
      'moe',
      'dllm',
      'vit',
      'rag',
    ]);
    expect(report.extras[0]).toMatchObject({ stage: 'moe', steps: 4, dense: null });
    expect(report.extras[1]).toMatchObject({ stage: 'dllm', state: 'empty' });
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('## Beyond the chain');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<section id="extra-moe">');
    const again = lines();
    await run({ out, stages: ['moe'], sink: again });
    expect(again.lines).toEqual([`moe: complete in ${join(out, 'moe')}, skipped`]);
  });

  it('continues a stage that keeps no checkpoint from the parts it finished', async () => {
    const out = tempDir();
    mkdirSync(join(out, 'rag', 'bench'), { recursive: true });
    const sink = lines();
    await run({ out, stages: ['rag'], extras: microExtras, sink });
    expect(sink.lines).toContain(`rag: resuming ${join(out, 'rag')} (its finished parts are kept)`);
    expect(sink.lines.some((l) => l.startsWith('rag: done, 8 steps in '))).toBe(true);
  });
});

/** Every file under `dir`: its modification time and SHA-256, by path. */
function snapshot(dir: string): Record<string, string> {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => statSync(join(dir, p)).isFile())
    .sort();
  return Object.fromEntries(
    files.map((p) => [
      p,
      `${statSync(join(dir, p)).mtimeMs} ${createHash('sha256')
        .update(readFileSync(join(dir, p)))
        .digest('hex')}`,
    ]),
  );
}

const pipelineProcess = fileURLToPath(
  new URL('../test-utils/pipeline-process.ts', import.meta.url),
);

/** The pipeline as a process (`test-utils/pipeline-process.ts`); SIGKILLed once `killWhen()` holds. */
function pipelineChild(
  args: string[],
  killWhen?: () => boolean,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', pipelineProcess, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const poll =
    killWhen &&
    setInterval(() => {
      if (killWhen()) child.kill('SIGKILL');
    }, 20);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      resolve({ code, signal, output });
    }),
  );
}

/** The step of `dir`'s checkpoint, 0 while it has none (or while a save replaces it). */
function savedStep(dir: string): number {
  try {
    return readCheckpoint(dir).state.step;
  } catch {
    return 0;
  }
}

describe('runPipeline after a crash', () => {
  it('SIGKILL mid-stage: the rerun skips the finished stage untouched and resumes the killed one from its last checkpoint', async () => {
    const out = tempDir();
    const [pretrain, sft] = [join(out, 'pretrain'), join(out, 'sft')];
    const args = [out, data, '12', 'pretrain,sft'];
    // Killed once SFT has saved its first checkpoint within the stage (one every 4 steps of 12).
    const killed = await pipelineChild(args, () => savedStep(sft) > 0);
    expect(killed.signal, killed.output).toBe('SIGKILL');
    const step = readCheckpoint(sft).state.step;
    expect(step).toBeGreaterThanOrEqual(4);
    expect(step).toBeLessThan(12);
    expect(step % 4).toBe(0);
    // The killed process left its lock behind; the rerun takes it over as stale.
    expect(existsSync(join(sft, FILES.lock))).toBe(true);
    const finished = snapshot(pretrain);

    const again = await pipelineChild(args);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain(`pretrain: complete in ${pretrain}, skipped`);
    expect(again.output).toContain(`sft: resuming ${sft} from step ${step}`);
    expect(again.output).toMatch(/sft: done, 12 steps in /);
    // No SFT step at or before the checkpoint ran again: the bar starts past it.
    const bar = [...again.output.matchAll(/^sft +\[.*\] +\d+% (\d+)\/12/gm)].map((m) =>
      Number(m[1]),
    );
    expect(bar.length).toBeGreaterThan(0);
    expect(Math.min(...bar)).toBeGreaterThanOrEqual(step);
    expect(bar.at(-1)).toBe(12);
    expect(readCheckpoint(sft).state.step).toBe(12);
    expect(existsSync(join(sft, 'report.json'))).toBe(true);
    expect(existsSync(join(sft, FILES.lock))).toBe(false);
    // The finished stage's files: the same bytes, never rewritten.
    expect(snapshot(pretrain)).toEqual(finished);
  });
});

describe('runPipeline errors', () => {
  it('names a failing stage, the cause and how to resume', async () => {
    const out = tempDir();
    await run({ out, stages: ['pretrain', 'sft'], sink: lines() });
    // A source the dpo stage refuses: a checkpoint that names no preset.
    const { stateFile } = readCheckpoint(join(out, 'sft'));
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    delete state.recipe;
    writeFileSync(stateFile, JSON.stringify(state));
    await expect(run({ out, stages: ['dpo'], sink: lines() })).rejects.toThrow(
      /^pipeline stage dpo failed: .*names no preset[\s\S]*run the same pipeline command again: finished stages are skipped and dpo starts over/,
    );
  });

  it('refuses a folder whose stages ran with another --steps (a trial is not a finished run)', async () => {
    const out = tempDir();
    await run({ out, stages: ['pretrain'], steps: 2, sink: lines() });
    expect(JSON.parse(readFileSync(join(out, 'pipeline.json'), 'utf8')).steps).toBe(2);
    await expect(run({ out, stages: ['pretrain'], steps: undefined })).rejects.toThrow(
      `--out ${out}: its stages ran with --steps 2, not each recipe's steps; pass --steps 2 to go on with it, or give a new --out`,
    );
    await expect(run({ out, stages: ['pretrain'], steps: 3 })).rejects.toThrow(
      'its stages ran with --steps 2, not --steps 3',
    );
    const again = lines();
    await run({ out, stages: ['pretrain'], steps: 2, sink: again });
    expect(again.lines).toContain(`pretrain: complete in ${join(out, 'pretrain')}, skipped`);
  });

  it('refuses unknown stages, missing inputs, nothing to serve, an unwritable --out and a full disk before training', async () => {
    const out = tempDir();
    // By default every stage but serve: the run ends by printing the serve command.
    expect(resolveStages(out)).toEqual(['pretrain', 'sft', 'reward', 'dpo', 'ppo', 'grpo', 'eval']);
    expect(() => resolveStages(out, ['pretrain', 'rlaif'])).toThrow(
      '--stages: unknown stage "rlaif"; expected a comma-separated list of pretrain, sft, reward, dpo, ppo, grpo, moe, dllm, vit, rag, eval, serve',
    );
    expect(() => resolveStages(out, ['dpo'])).toThrow(
      `--stages: dpo starts from sft, which is neither in --stages nor complete in ${join(out, 'sft')}; add sft to --stages`,
    );
    const file = textFile('not a folder');
    await expect(run({ out: join(file, 'runs') })).rejects.toThrow(
      new RegExp(`^--out ${join(file, 'runs')}: cannot write there`),
    );
    await expect(run({ out, stages: ['pretrain', 'sft'], freeBytes: () => 0 })).rejects.toThrow(
      new RegExp(
        `^--out ${out}: 0\\.0 MiB free on its file system, but the 2 stages to train \\(pretrain, sft\\) will write about \\d+\\.\\d MiB`,
      ),
    );
    expect(() => resolveStages(out, ['eval', 'serve'])).toThrow(
      `--stages: serve serves the last finished model, and none of pretrain, sft, dpo, ppo, grpo is in --stages or complete in ${out}; add one to --stages`,
    );
    expect(existsSync(join(out, 'pretrain'))).toBe(false);
  });
});
