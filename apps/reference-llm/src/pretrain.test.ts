import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arithmeticTask, knowledgeQuizTask, runBenchmark } from '@tessera/eval';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { evaluateCheckpoint } from './evaluate.js';
import { asLanguageModel } from './language-model.js';
import { complete, loadCheckpoint } from './load.js';
import { PRESETS, type Preset, presetBudget, scalingTable } from './presets.js';
import { TrainingProbe, timeByOp } from './probe.js';
import { lossCurveSvg } from './report.js';
import { pretrain, progressBar } from './train.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

// A miniature preset so the tests run in seconds; the data is the bundled text, shortened.
const micro: Preset = {
  ...PRESETS.tiny!,
  name: 'micro',
  vocabSize: 300,
  model: { ...PRESETS.tiny!.model, dModel: 32, layers: 1, heads: 2, kvHeads: 1, maxSeqLen: 32 },
  batchSize: 4,
  seqLen: 32,
  warmupSteps: 2,
  evalInterval: 4,
};
const data = join(mkdtempSync(join(tmpdir(), 'tessera-data-')), 'text.txt');
writeFileSync(
  data,
  readFileSync(new URL('../data/tinyshakespeare.txt', import.meta.url), 'utf8').slice(0, 60_000),
);
const quiet = () => {};
/** Continues the run in `dir` from its checkpoint. */
const resume = (dir: string, extra: Partial<Parameters<typeof pretrain>[0]> = {}) =>
  pretrain({ preset: micro, out: dir, resume: true, data, device, log: quiet, ...extra });

describe('pretrain', () => {
  it('a resumed run continues the same loss trajectory', async () => {
    const straight = await pretrain({
      preset: micro,
      out: mkdtempSync(join(tmpdir(), 'tessera-run-')),
      steps: 8,
      data,
      device,
      log: quiet,
    });
    const dir = mkdtempSync(join(tmpdir(), 'tessera-run-'));
    const control = { stop: false };
    const first = await pretrain({
      preset: micro,
      out: dir,
      steps: 8,
      data,
      device,
      log: (line) => {
        if (line.startsWith('step 4/')) control.stop = true; // "Ctrl-C" after the step-4 checkpoint
      },
      control,
    });
    expect(first.stoppedEarly).toBe(true);
    expect(first.steps).toBe(4);
    const resumed = await resume(dir);
    expect(resumed.steps).toBe(8);
    expect(resumed.trainLoss).toHaveLength(8);
    for (let i = 0; i < 8; i++) expect(resumed.trainLoss[i]).toBeCloseTo(straight.trainLoss[i]!, 4);
    expect(existsSync(join(dir, 'report.md'))).toBe(true);
    expect(readFileSync(join(dir, 'loss.svg'), 'utf8')).toContain('<svg');
    // The loss went down on this tiny run.
    expect(straight.trainLoss.at(-1)!).toBeLessThan(straight.trainLoss[0]!);
  });

  it('a time limit stops training, evaluates where it got to, saves and reports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-run-'));
    const lines: string[] = [];
    const r = await pretrain({
      preset: micro,
      out: dir,
      steps: 100_000,
      maxSeconds: 2,
      data,
      device,
      log: (line) => lines.push(line),
    });
    expect(r.stopReason).toBe('time');
    expect(r.steps).toBeGreaterThan(0);
    expect(r.steps).toBeLessThan(r.totalSteps);
    expect(r.val.at(-1)!.step).toBe(r.steps);
    expect(lines.at(-1)).toMatch(/^stopped by the 2s time limit at step \d+\/100000/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ steps: r.steps, totalSteps: 100_000, stopReason: 'time' });
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('stopped by the time limit');
    // The checkpoint resumes from there.
    const resumed = await resume(dir, { maxSeconds: 1 });
    expect(resumed.trainLoss.length).toBeGreaterThan(r.steps);
    await expect(
      pretrain({ preset: micro, out: dir, data, device, log: quiet, maxSeconds: 0 }),
    ).rejects.toThrow(/maxSeconds must be > 0, got 0/);
  });

  it('loads the checkpoint to generate and evaluate; a corrupt checkpoint is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-run-'));
    await pretrain({ preset: micro, out: dir, steps: 4, data, device, log: quiet });
    let streamed = '';
    const text = await complete(dir, 'ROMEO:', {
      device,
      maxNewTokens: 10,
      temperature: 0,
      onText: (s) => (streamed += s),
    });
    expect(text.length).toBeGreaterThan(0);
    expect(streamed).toBe(text);
    const ev = await evaluateCheckpoint(dir, { device, data });
    expect(ev.perplexity).toBeGreaterThan(1);
    expect(ev.bitsPerByte).toBeGreaterThan(0);
    writeFileSync(join(dir, 'model.safetensors'), new Uint8Array([1, 2, 3]));
    expect(() => loadCheckpoint(dir, device)).toThrow(
      /model\.safetensors is corrupt or does not match the config \(safetensors: file too short/,
    );
    writeFileSync(join(dir, 'config.json'), '{"model": ');
    expect(() => loadCheckpoint(dir, device)).toThrow(/config\.json is corrupt/);
    expect(() => loadCheckpoint(join(dir, 'nope'), device)).toThrow(/config\.json is missing/);
  });
});

describe('presets and reports', () => {
  it('the status line carries a progress bar', () => {
    expect(progressBar(0, 4)).toBe('[░░░░]   0%');
    expect(progressBar(0.5, 4)).toBe('[██░░]  50%');
    expect(progressBar(0.999, 4)).toBe('[████]  99%');
    expect(progressBar(1.5, 4)).toBe('[████] 100%');
  });

  it('presets follow the Chinchilla rule and the scaling table lists them', () => {
    for (const p of Object.values(PRESETS)) {
      const b = presetBudget(p);
      expect(b.tokens).toBe(20 * b.params);
      expect(b.flops).toBe(6 * b.params * b.tokens);
    }
    const table = scalingTable();
    for (const name of Object.keys(PRESETS)) expect(table).toContain(`| ${name} |`);
  });

  it('the loss curve is an SVG with the training path and validation points', () => {
    const svg = lossCurveSvg(
      [5, 4, 3, 2.5],
      [
        { step: 2, loss: 3.5 },
        { step: 4, loss: 2.8 },
      ],
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<circle/g)).toHaveLength(2);
  });
});

describe('benchmark tasks on a checkpoint', () => {
  it('continuation log-likelihood equals minus the summed cross-entropy, and the runner completes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tessera-run-'));
    await pretrain({ preset: micro, out, steps: 2, data, device, log: quiet });
    const { model, tokenizer } = loadCheckpoint(out, device);
    const lm = asLanguageModel(model, tokenizer, out);
    const context = 'ROMEO:\nWhat';
    const ids = Array.from(tokenizer.encode(`${context} light`, { disallowedSpecial: [] }));
    const nCont = tokenizer.encode(' light', { disallowedSpecial: [] }).length;
    const x = T.tensor(Int32Array.from(ids.slice(0, -1)), { shape: [1, ids.length - 1], device });
    const y = T.tensor(Int32Array.from(ids.slice(1)), { shape: [ids.length - 1], device });
    const ce = T.noGrad(() =>
      T.crossEntropy(T.reshape(model.forward(x), [-1, model.vocabSize]), y, { reduction: 'none' }),
    );
    const perToken = Array.from((await ce.data()) as Float32Array);
    const expected = -perToken.slice(-nCont).reduce((a, b) => a + b, 0);
    expect(await lm.logLikelihood(context, ' light')).toBeCloseTo(expected, 3);
    const report = await runBenchmark(lm, [arithmeticTask(2, 0), knowledgeQuizTask()], {
      limit: 2,
      numFewshot: 1,
    });
    expect(report.results.map((r) => r.n)).toEqual([2, 2]);
    for (const r of report.results)
      for (const v of Object.values(r.metrics)) expect(v).toBeGreaterThanOrEqual(0);
  });
});

describe('training probe (the profile command)', () => {
  it('steps, measures and attributes a step to kernels', async () => {
    const probe = new TrainingProbe(micro, device);
    const first = await probe.step();
    // Random tokens: the first loss is near ln(vocab).
    expect(first).toBeGreaterThan(Math.log(micro.vocabSize) - 1);
    expect(first).toBeLessThan(Math.log(micro.vocabSize) + 1);
    expect(await probe.throughput(2)).toBeGreaterThan(0);
    expect(probe.flopsPerStep).toBe(
      3 * probe.model.flopsPerToken(micro.seqLen).total * micro.batchSize * micro.seqLen,
    );
    const profile = await probe.profile();
    expect(profile.kernels.some((k) => k.name.startsWith('matmul'))).toBe(true);
    const byOp = timeByOp(profile);
    expect(byOp.reduce((s, o) => s + o.share, 0)).toBeCloseTo(1, 6);
    expect(byOp.map((o) => o.share)).toEqual([...byOp.map((o) => o.share)].sort((a, b) => b - a));
  });
});
