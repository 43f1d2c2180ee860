import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { type PretrainState, pretrain } from './pretrain.js';
import { FILES, readCheckpoint } from './run-folder.js';
import { data, lines, micro, shakespeare, tempDir, textFile } from './test-utils/fixtures.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const quiet = { write: () => {} };
const run = (o: Partial<Parameters<typeof pretrain>[0]> = {}) =>
  pretrain({ preset: micro, out: tempDir(), steps: 8, data, device, sink: quiet, ...o });

/** The weights of a run folder's current checkpoint. */
const weights = (dir: string) =>
  T.loadSafetensors(new Uint8Array(readCheckpoint(dir).read(FILES.model)), { device });

/** Replaces a checkpoint file and its recorded SHA-256, as a consistent but wrong checkpoint would be. */
function replaceFile(
  dir: string,
  name: string,
  content: string | Uint8Array,
  patch: Record<string, unknown> = {},
) {
  const { folder, stateFile } = readCheckpoint(dir);
  writeFileSync(join(folder, name), content);
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  state.files[name] = createHash('sha256').update(content).digest('hex');
  writeFileSync(stateFile, JSON.stringify({ ...state, ...patch }));
}

describe('pretrain', () => {
  it('a run stopped at step 4 and resumed ends with the loss and weights of an uninterrupted run', async () => {
    const straight = tempDir();
    const a = await run({ out: straight });
    const dir = tempDir();
    const stop: { reason?: 'SIGINT' } = {};
    const first = await run({
      out: dir,
      stop,
      sink: {
        write: (t) => {
          if (t.startsWith('step 4/')) stop.reason = 'SIGINT'; // after step 4's evaluation
        },
      },
    });
    expect(first).toMatchObject({ steps: 4, stopReason: 'SIGINT' });
    expect(readCheckpoint(dir).state.step).toBe(4);
    const resumed = await run({
      out: dir,
      steps: undefined,
      preset: undefined,
      data: undefined,
      resume: true,
    });
    expect(resumed.steps).toBe(8);
    expect(resumed.trainLoss).toHaveLength(8);
    for (let i = 0; i < 8; i++) expect(resumed.trainLoss[i]).toBeCloseTo(a.trainLoss[i]!, 5);
    const [w1, w2] = [weights(straight), weights(dir)];
    for (const name of Object.keys(w1)) {
      const [x, y] = [await w1[name]!.data(), await w2[name]!.data()];
      for (let i = 0; i < x.length; i++) expect(y[i]).toBeCloseTo(x[i]!, 6);
    }
    expect(a.trainLoss.at(-1)!).toBeLessThan(a.trainLoss[0]!); // it learned something
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('| steps | 8 |');
    // The Hugging Face config sits beside the weights.
    const hf = JSON.parse(readCheckpoint(dir).read(FILES.hfConfig).toString());
    expect(hf).toMatchObject({ model_type: 'llama', hidden_size: 32, num_hidden_layers: 1 });
  });

  it('stopped by a signal between evaluations, the report says which step its validation figures are from', async () => {
    const dir = tempDir();
    const stop: { reason?: 'SIGTERM' } = {};
    const r = await run({
      out: dir,
      evalEvery: 3,
      stop,
      sink: {
        write: (t) => {
          if (t.includes(' 4/8')) stop.reason = 'SIGTERM'; // step 4's progress line
        },
      },
    });
    expect(r).toMatchObject({ steps: 4, stopReason: 'SIGTERM' });
    expect(r.val.at(-1)!.step).toBe(3);
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(report).toMatch(/\| validation loss \| [\d.]+ nats\/token \(at step 3\) \|/);
    expect(report).toMatch(/\| validation bits per byte \| .* \(at step 3\) \|/);
  });

  it('a time limit stops training, evaluates where it got to, saves and reports', async () => {
    const dir = tempDir();
    const sink = lines();
    const r = await run({ out: dir, steps: 100_000, maxSeconds: 2, sink });
    expect(r.stopReason).toBe('time');
    expect(r.steps).toBeGreaterThan(0);
    expect(r.val.at(-1)!.step).toBe(r.steps);
    expect(sink.lines.at(-1)).toMatch(/^stopped by the 2s time limit at step \d+\/100000/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ steps: r.steps, totalSteps: 100_000, stopReason: 'time' });
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('stopped by the time limit');
    const resumed = await run({ out: dir, steps: undefined, resume: true, maxSeconds: 1 });
    expect(resumed.trainLoss.length).toBeGreaterThan(r.steps);
  });

  it('refuses to overwrite a checkpoint; --force starts over, keeping the old run until every input passed and the first checkpoint is saved', async () => {
    const dir = tempDir();
    await run({ out: dir, steps: 2 });
    await expect(run({ out: dir, steps: 3 })).rejects.toThrow(
      `${dir} holds a checkpoint at step 2 of 2; pass --resume to continue it or --force to delete it and start over`,
    );
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    const before = readCheckpoint(dir).read(FILES.model);
    // Inputs that fail their checks leave the finished run as it was.
    await expect(
      run({ out: dir, steps: 3, force: true, data: '/nonexistent.txt' }),
    ).rejects.toThrow(/nonexistent\.txt/);
    await expect(run({ out: dir, steps: 3, force: true, data: textFile('Hello') })).rejects.toThrow(
      /the training split has 4 bytes/,
    );
    expect(readCheckpoint(dir).read(FILES.model).equals(before)).toBe(true);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe(report);
    const again = await run({ out: dir, steps: 3, force: true });
    expect(again.trainLoss).toHaveLength(3);
    expect(readCheckpoint(dir).state.step).toBe(3);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).not.toBe(report);
  });

  it('a resumed run that was already complete keeps its report (and its throughput)', async () => {
    const dir = tempDir();
    await run({ out: dir, steps: 2 });
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    const sink = lines();
    const r = await run({ out: dir, steps: undefined, resume: true, sink });
    expect(r.steps).toBe(2);
    expect(sink.lines).toContain(`${dir} is complete (step 2 of 2): nothing to train`);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe(report);
    expect(report).not.toMatch(/throughput \| 0 tokens\/s/);
  });

  it('refuses a folder another live process writes (its lock), and clears a stale lock', async () => {
    const dir = tempDir();
    await run({ out: dir, steps: 1 });
    const lock = join(dir, FILES.lock);
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, host: hostname(), since: 'now' }));
    await expect(run({ out: dir, steps: undefined, resume: true })).rejects.toThrow(
      `${dir} is being written by process ${process.ppid} on ${hostname()} since now (${lock})`,
    );
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(
      lock,
      JSON.stringify({ pid: Number(ended.stdout), host: hostname(), since: 'then' }),
    );
    expect((await run({ out: dir, steps: 2, force: true })).steps).toBe(2);
    expect(existsSync(lock)).toBe(false);
  });

  it('checks what it resumes, naming the file and the field', async () => {
    const dir = tempDir();
    await run({ out: dir, steps: 2 });
    const { folder, stateFile } = readCheckpoint(dir);
    const resume = (o: Partial<Parameters<typeof pretrain>[0]> = {}) =>
      run({ out: dir, steps: undefined, resume: true, ...o });
    const original = (name: string) => readFileSync(join(folder, name));
    const saved = Object.fromEntries(
      [FILES.optimizer, FILES.tokenizer, FILES.model, FILES.state].map((n) => [n, original(n)]),
    );
    const restore = () => {
      for (const [n, bytes] of Object.entries(saved)) writeFileSync(join(folder, n), bytes);
    };

    // Flags that contradict the checkpoint.
    await expect(resume({ steps: 5 })).rejects.toThrow(
      `--steps 5 conflicts with the checkpoint, which was started with 2 (${stateFile} field "totalSteps")`,
    );
    await expect(resume({ preset: 'tiny' })).rejects.toThrow(
      /--preset tiny conflicts with the checkpoint, which was started with micro/,
    );
    await expect(resume({ optimizer: 'muon' })).rejects.toThrow(
      /--optimizer muon conflicts .* adamw .*field "optimizer\.name"/,
    );
    await expect(resume({ data: textFile(shakespeare(50_000)) })).rejects.toThrow(
      /is not the text the checkpoint was trained on \(.*tessera\.json field "data"/,
    );

    // A truncated optimizer file (it used to be an error naming no file).
    writeFileSync(join(folder, FILES.optimizer), saved[FILES.optimizer]!.subarray(0, 100));
    await expect(resume()).rejects.toThrow(
      new RegExp(`^${join(folder, FILES.optimizer)}: is not the file saved with this checkpoint`),
    );
    restore();
    // Optimizer state that is empty, or not finite.
    replaceFile(dir, FILES.optimizer, await T.saveSafetensors({}));
    await expect(resume()).rejects.toThrow(
      `${join(folder, FILES.optimizer)}: holds no tensors, but the run is at step 2: the optimizer state is lost`,
    );
    restore();
    const state = T.loadSafetensors(new Uint8Array(saved[FILES.optimizer]!), { device });
    const name = Object.keys(state)[0]!;
    state[name] = T.mul(state[name]!, Number.NaN);
    replaceFile(dir, FILES.optimizer, await T.saveSafetensors(state));
    await expect(resume()).rejects.toThrow(
      `${join(folder, FILES.optimizer)}: the optimizer state is not finite (tensor ${name}[0] = NaN)`,
    );
    restore();
    // An unknown optimizer name, a step that does not match the optimizer's.
    replaceFile(dir, FILES.model, saved[FILES.model]!, {
      optimizer: { name: 'sgd', step: 2, groups: [] },
    });
    await expect(resume()).rejects.toThrow(
      `${stateFile}: field "optimizer.name" is "sgd"; known optimizers: adamw, muon`,
    );
    restore();
    // Another run's tokenizer of the same size; a tokenizer with fewer tokens than the model.
    const other = tempDir();
    await run({ out: other, steps: 1, data: textFile(shakespeare(120_000).slice(60_000)) });
    const otherTokenizer = readCheckpoint(other).read(FILES.tokenizer);
    writeFileSync(join(folder, FILES.tokenizer), otherTokenizer);
    await expect(resume()).rejects.toThrow(
      new RegExp(
        `^${join(folder, FILES.tokenizer)}: is not the tokenizer the model was trained with: its SHA-256 fingerprint`,
      ),
    );
    const json = JSON.parse(saved[FILES.tokenizer]!.toString());
    const vocab = json.model.vocab as Record<string, number>;
    json.model.vocab = Object.fromEntries(Object.entries(vocab).filter(([, id]) => id < 256));
    json.model.merges = [];
    json.added_tokens = [];
    replaceFile(dir, FILES.tokenizer, JSON.stringify(json));
    await expect(resume()).rejects.toThrow(
      `${join(folder, FILES.tokenizer)}: has 256 tokens, the model 300 (tessera.json field model.vocabSize): not this model's tokenizer`,
    );
    restore();
    // Weights that are not finite.
    const w = T.loadSafetensors(new Uint8Array(saved[FILES.model]!), { device });
    w['model.norm.weight'] = T.mul(w['model.norm.weight']!, Number.POSITIVE_INFINITY);
    replaceFile(dir, FILES.model, await T.saveSafetensors(w));
    await expect(resume()).rejects.toThrow(
      `${join(folder, FILES.model)}: the checkpoint's weights are not finite (tensor model.norm.weight[0] = Infinity)`,
    );
    restore();
    // The Hugging Face config.json is checked like every other file: changed, or deleted.
    const hfConfig = join(folder, FILES.hfConfig);
    const config = readFileSync(hfConfig, 'utf8');
    writeFileSync(hfConfig, config.replace(/"vocab_size": \d+/, '"vocab_size": 999'));
    await expect(resume()).rejects.toThrow(
      new RegExp(`^${hfConfig}: is not the file saved with this checkpoint`),
    );
    rmSync(hfConfig);
    await expect(resume()).rejects.toThrow(`${hfConfig}: is missing`);
    writeFileSync(hfConfig, config);
    // An optimizer state of another optimizer: the field of tessera.json is named.
    replaceFile(dir, FILES.model, saved[FILES.model]!, {
      optimizer: { ...JSON.parse(saved[FILES.state]!.toString()).optimizer, optimizer: 'Muon' },
    });
    await expect(resume()).rejects.toThrow(
      `${stateFile}: field "optimizer.optimizer" is "Muon", but this run's optimizer is AdamW`,
    );
    restore();
    expect((await resume()).steps).toBe(2);
  });

  it('never saves weights that are not finite', async () => {
    const dir = tempDir();
    // A learning rate past f32's range turns every weight infinite at the first update, while
    // that step's loss (computed before the update) is still finite.
    const diverging = { ...micro, lr: 1e39 };
    await expect(run({ out: dir, preset: diverging, saveEvery: 1 })).rejects.toThrow(
      /^pretrain: refusing to save weights that are not finite at step 1 \(model\.safetensors: tensor model\.[^\]]+\] = -?(Infinity|NaN)\); no checkpoint was written$/,
    );
    expect(existsSync(join(dir, FILES.pointer))).toBe(false);
  });

  it('refuses data too short for one batch, with the numbers; a text with no line break near 90% still trains', async () => {
    for (const [content, message] of [
      [
        '',
        'the training split has 0 bytes, fewer than the 33 tokens of one batch window (32 inputs + 1 target)',
      ],
      ['Hello', 'the training split has 4 bytes, fewer than the 33 tokens'],
      ['x'.repeat(300), 'the validation split has 30 bytes, fewer than the 33 tokens'],
    ] as const) {
      const file = textFile(content);
      await expect(run({ data: file, steps: 1 })).rejects.toThrow(`--data ${file}: ${message}`);
    }
    const text = `${shakespeare(20_000).replaceAll('\n', ' ').slice(0, 19_000)}\n${'Z'.repeat(1000)}`;
    const r = await run({ data: textFile(text), steps: 2 });
    expect(r.trainLoss.every(Number.isFinite)).toBe(true);
    expect(r.val.at(-1)!.loss).toBeGreaterThan(0);
  });

  it('trains the MoE variant: checkpoint config, expert load, the report pictures, conflicts on resume', async () => {
    const dir = tempDir();
    const r = await run({ out: dir, steps: 4, moe: { experts: 4, topK: 2, balance: 'aux-free' } });
    expect(r.trainLoss).toHaveLength(4);
    const { state } = readCheckpoint<PretrainState>(dir);
    expect(state.preset.name).toBe('micro-moe4x2-auxfree');
    expect(state.model).toMatchObject({
      ffn: 'moe',
      moe: { experts: 4, topK: 2, hidden: 48, biasUpdateRate: 0.005 },
    });
    // One column per step (4 steps < 200 columns), 4 experts, loads averaging 1.
    expect(state.expertLoad!.steps).toEqual([1, 2, 3, 4]);
    const layer = state.expertLoad!.load['model.layers.0.mlp']!;
    expect(layer).toHaveLength(4);
    for (const column of layer) expect(column.reduce((a, b) => a + b, 0)).toBeCloseTo(4, 5);
    const report = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(report).toContain('![expert load over training (experts × steps)](expert-load.svg)');
    expect(report).toContain('| active parameters per token |');
    expect(readFileSync(join(dir, 'expert-load.svg'), 'utf8')).toContain('model.layers.0.mlp');
    expect(readFileSync(join(dir, 'routing.svg'), 'utf8')).toContain('token → expert routing');
    const hf = JSON.parse(readCheckpoint(dir).read(FILES.hfConfig).toString());
    expect(hf).toMatchObject({
      num_local_experts: 4,
      num_experts_per_tok: 2,
      topk_method: 'noaux_tc',
    });
    await expect(
      run({
        out: dir,
        resume: true,
        steps: undefined,
        preset: undefined,
        moe: { experts: 8, topK: 2 },
      }),
    ).rejects.toThrow(
      /--preset micro-moe8x2 conflicts with the checkpoint, which was started with micro-moe4x2-auxfree/,
    );
  });

  it('trains the MoE variant with a capacity factor: named for it, and the report gives the share dropped', async () => {
    const dir = tempDir();
    await run({ out: dir, steps: 2, moe: { experts: 4, topK: 2, capacityFactor: 0.5 } });
    const { state } = readCheckpoint<PretrainState>(dir);
    expect(state.preset.name).toBe('micro-moe4x2-cf0.5');
    expect(state.model).toMatchObject({ moe: { capacityFactor: 0.5 } });
    // Capacity ⌈0.5 · N · 2 / 4⌉ per expert keeps at most N of the 2N assignments: half or more dropped.
    const dropped = state.expertLoad!.dropped!['model.layers.0.mlp']!;
    expect(dropped).toHaveLength(2);
    for (const share of dropped) expect(share).toBeGreaterThanOrEqual(0.5);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(
      /\| assignments dropped at the end \(capacity factor 0\.5, per layer\) \| \d+\.\d%/,
    );
  });
});
