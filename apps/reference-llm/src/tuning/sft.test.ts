import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../load.js';
import { FILES, readCheckpoint } from '../run-folder.js';
import { tempDir } from '../test-utils/fixtures.js';
import { microRecipe, pretrainedMicro, pretrainedMicroMoE } from '../test-utils/tuning.js';
import { ARITHMETIC_TASK, arithmeticData } from './arithmetic.js';
import { ChatFormat } from './chat-format.js';
import { sft } from './sft.js';
import type { StageState } from './stage.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const from = await pretrainedMicro(device);
const quiet = { write: () => {} };
const run = (o: Partial<Parameters<typeof sft>[0]> = {}) =>
  sft({ from, out: tempDir(), recipe: microRecipe, device, sink: quiet, ...o });

const weights = (dir: string) =>
  T.loadSafetensors(new Uint8Array(readCheckpoint(dir).read(FILES.model)), { device });
async function maxDifference(a: string, b: string): Promise<number> {
  const [x, y] = [weights(a), weights(b)];
  let worst = 0;
  for (const name of Object.keys(x)) {
    const [u, v] = [await x[name]!.data(), await y[name]!.data()];
    for (let i = 0; i < u.length; i++) worst = Math.max(worst, Math.abs(u[i]! - v[i]!));
  }
  return worst;
}
/** Runs to step 4, stops as Ctrl-C would, resumes to the end. */
async function stoppedAndResumed(o: Partial<Parameters<typeof sft>[0]>): Promise<string> {
  const dir = tempDir();
  const stop: { reason?: 'SIGINT' } = {};
  const sink = {
    write: (t: string) => {
      if (t.startsWith('step 4/')) stop.reason = 'SIGINT'; // after step 4's evaluation
    },
  };
  const first = await run({ ...o, out: dir, stop, sink });
  expect(first.loop).toMatchObject({ steps: 4, stopReason: 'SIGINT' });
  const { loraRank: _, ...rest } = o;
  const resumed = await run({ ...rest, out: dir, resume: true });
  expect(resumed.steps).toBe(8);
  return dir;
}

describe('sft', () => {
  it('turns the pretrained model into a chat model: ChatML tokens, a checkpoint, figures before and after', async () => {
    const out = tempDir();
    const r = await run({ out });
    expect(r.steps).toBe(8);
    expect(r.history.val.map((v) => v.step)).toEqual([0, 4, 8]);
    expect(r.after.loss).toBeLessThan(r.before.loss);
    expect(r.before.format).toBe(0); // the pretrained model has never seen <|im_end|>
    const { model, tokenizer } = loadCheckpoint(out, device);
    const chat = new ChatFormat(tokenizer);
    expect(model.vocabSize).toBe(tokenizer.vocabSize);
    expect(chat.endId).toBe(tokenizer.vocabSize - 1);
    const state = readCheckpoint<StageState>(out).state;
    expect(state).toMatchObject({
      stage: 'sft',
      step: 8,
      sources: { from: { path: from, stage: 'pretrain' } },
    });
    expect(state.metrics).toHaveLength(8);
    for (const f of ['report.md', 'report.json', 'loss.svg', 'curves.svg', 'data/sft-train.jsonl'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(
      /held-out task accuracy \| 0\.0% → /,
    );
  });

  it('tunes a mixture-of-experts checkpoint, whose config.json keeps the experts', async () => {
    const out = tempDir();
    const r = await run({ from: await pretrainedMicroMoE(device), out });
    expect(r.steps).toBe(8);
    const config = JSON.parse(readCheckpoint(out).read('config.json').toString('utf8'));
    expect(config).toMatchObject({ num_local_experts: 4, num_experts_per_tok: 2 });
    expect(loadCheckpoint(out, device).model.config.ffn).toBe('moe');
  });

  it('a run stopped at step 4 and resumed ends with the weights of an uninterrupted one (full and LoRA)', async () => {
    for (const o of [{}, { loraRank: 2 }]) {
      const straight = tempDir();
      await run({ ...o, out: straight });
      const resumed = await stoppedAndResumed(o);
      expect(await maxDifference(straight, resumed)).toBeLessThan(1e-5);
    }
  });

  it('--pack trains on the same examples packed into rows: the first step has the padded loss', async () => {
    // Short examples, so that several fit in one row of the 64-token window.
    const dir = tempDir();
    const lines = ['a b', 'c d', 'e f', 'g h'].map((w) =>
      JSON.stringify({
        messages: [
          { role: 'user', content: `Say ${w}` },
          { role: 'assistant', content: `Answer: ${w}` },
        ],
      }),
    );
    const data = join(dir, 'short.jsonl');
    writeFileSync(data, `${lines.join('\n')}\n`);
    const files = { data, heldout: data, steps: 2 };
    const padded = await run(files);
    const out = tempDir();
    const packed = await run({ ...files, pack: true, out });
    // Same examples, same weights: packing changes the rows, not the loss (exact attention).
    expect(packed.history.trainLoss[0]).toBeCloseTo(padded.history.trainLoss[0]!, 4);
    expect(packed.loop.tokensPerSecond).toBeGreaterThan(0);
    const state = readCheckpoint<StageState & { settings: { pack: boolean } }>(out).state;
    expect(state.settings.pack).toBe(true);
  });

  it('LoRA trains the adapters and the embedding, and saves the PEFT adapter beside the merged weights', async () => {
    const out = tempDir();
    await run({ out, loraRank: 2 });
    const ckpt = readCheckpoint(out);
    const adapter = T.readSafetensorsHeader(new Uint8Array(ckpt.read('adapter_model.safetensors')));
    expect(Object.keys(adapter.tensors)).toContain(
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight',
    );
    expect(JSON.parse(ckpt.read('adapter_config.json').toString())).toMatchObject({
      r: 2,
      lora_alpha: 4,
      peft_type: 'LORA',
    });
    expect(Object.keys(weights(out)).some((k) => k.includes('lora'))).toBe(false);
  });

  it('a resume checks its flags, its source and its data, naming them', async () => {
    const out = tempDir();
    await run({ out, steps: 4 });
    await expect(run({ out, resume: true, loraRank: 2 })).rejects.toThrow(
      /--lora-rank 2 conflicts with the checkpoint, which was started with 0 \(.*tessera\.json field "settings\.loraRank"\)/,
    );
    await expect(run({ out })).rejects.toThrow(/pass --resume to continue it or --force/);
    const data = join(out, 'data', 'sft-train.jsonl');
    writeFileSync(data, readFileSync(data, 'utf8').split('\n').slice(1).join('\n'));
    await expect(run({ out, resume: true, data })).rejects.toThrow(
      /--data .* conflicts with the checkpoint/,
    );
    const other = tempDir();
    await run({ out: other, steps: 4, seed: 2 });
    await expect(run({ out: other, resume: true, from: out })).rejects.toThrow(
      /is not the one this run started from .*field "sources\.from"/,
    );
  });

  it('--force with an input that fails its check leaves the replaced run, its data and report as they were', async () => {
    const out = tempDir();
    await run({ out, steps: 2 });
    const snapshot = () =>
      ['run.json', 'report.md', 'data/sft-train.jsonl', 'data/sft-heldout.jsonl'].map((f) =>
        readFileSync(join(out, f), 'utf8'),
      );
    const before = snapshot();
    const model = readCheckpoint(out).read(FILES.model);
    await expect(run({ out, steps: 2, force: true, seed: 7, from: tempDir() })).rejects.toThrow(
      /run\.json: is missing/,
    );
    await expect(
      run({ out, steps: 2, force: true, seed: 7, heldout: '/nonexistent.jsonl' }),
    ).rejects.toThrow(/nonexistent\.jsonl/);
    expect(snapshot()).toEqual(before);
    expect(readCheckpoint(out).read(FILES.model).equals(model)).toBe(true);
    expect(existsSync(join(out, FILES.lock))).toBe(false);
    // A --force run that passes its checks replaces the run, its generated data included.
    await run({ out, steps: 2, force: true, seed: 7 });
    expect(snapshot()[2]).not.toBe(before[2]);
  });

  it('a bad data file is refused before training, naming the file and line', async () => {
    const out = tempDir();
    const data = join(tempDir(), 'chats.jsonl');
    const good = {
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Answer: hi' },
      ],
    };
    writeFileSync(
      data,
      `${JSON.stringify(good)}\n${JSON.stringify({ messages: [{ role: 'robot', content: 'x' }] })}\n`,
    );
    await expect(run({ out, data })).rejects.toThrow(`${data}:2: messages[0] has role "robot"`);
    expect(existsSync(join(out, 'run.json'))).toBe(false);
  });

  it('--arithmetic adds worked multi-step problems to the generated data, none held out by grpo', async () => {
    const out = tempDir();
    await run({ out, steps: 1, arithmetic: 6 });
    const lines = (name: string, dir = out) =>
      readFileSync(join(dir, 'data', name), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
    const plain = tempDir();
    await run({ out: plain, steps: 1 });
    const [mixed, tasks] = [lines('sft-train.jsonl'), lines('sft-train.jsonl', plain)];
    expect(mixed.slice(0, tasks.length)).toEqual(tasks);
    const added = mixed.slice(tasks.length);
    expect(added).toHaveLength(6);
    const heldout = arithmeticData(1, {
      heldout: microRecipe.grpo.heldout,
      train: 0,
    }).heldout.map((e) => e.messages[0]!.content);
    for (const e of added) {
      expect(e.task).toBe(ARITHMETIC_TASK);
      expect(e.messages[1].content).toMatch(/\nAnswer: \d+$/);
      expect(heldout).not.toContain(e.messages[0].content);
    }
    await expect(
      run({ data: join(out, 'data', 'sft-train.jsonl'), arithmetic: 2 }),
    ).rejects.toThrow(/--arithmetic 2 adds to the generated examples, but --data .* replaces them/);
  });
});
