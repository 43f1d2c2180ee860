import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../load.js';
import { microRun, microServe } from '../test-utils/serve.js';
import {
  type EndReason,
  Engine,
  type EngineOptions,
  QueueFullError,
  type SequenceRequest,
} from './engine.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const { model } = loadCheckpoint(await microRun(device), device);

const options: EngineOptions = { maxBatch: 4, maxQueue: 2, prefillChunk: 8 };

/** Submits a sequence; resolves with its tokens and how it ended. */
function decode(
  engine: Engine,
  request: Partial<SequenceRequest> & Pick<SequenceRequest, 'prompt' | 'maxTokens'>,
): Promise<{ tokens: number[]; reason: EndReason }> {
  return new Promise((resolve) => {
    const tokens: number[] = [];
    engine.submit({
      options: { temperature: 0.9, seed: 1 },
      onToken: (t) => {
        tokens.push(t.token);
        return true;
      },
      onEnd: (reason) => resolve({ tokens, reason }),
      ...request,
    });
  });
}

const prompt = (length: number, from = 1) => Array.from({ length }, (_, i) => (from + 7 * i) % 250);

describe('Engine', () => {
  it('a seeded sequence gets the same tokens alone and batched with others (chunked prefill included)', async () => {
    const engine = await Engine.start(model, options);
    const seqs = [
      { prompt: prompt(5), maxTokens: 12, options: { temperature: 0.9, seed: 11 } },
      { prompt: prompt(40, 3), maxTokens: 8, options: { temperature: 1.2, topP: 0.9, seed: 12 } },
      {
        prompt: prompt(19, 5),
        maxTokens: 15,
        options: { temperature: 0.7, seed: 13, presencePenalty: 0.5 },
      },
      { prompt: prompt(3, 2), maxTokens: 10, options: { temperature: 0, seed: 14 } },
    ];
    const alone = [];
    for (const s of seqs) alone.push(await decode(engine, s));
    const steps: number[] = [];
    const batched = await Engine.start(model, { ...options, onStep: (rows) => steps.push(rows) });
    const together = await Promise.all(seqs.map((s) => decode(batched, s)));
    expect(together).toEqual(alone);
    expect(Math.max(...steps)).toBe(4); // they did run together
    expect(together.map((r) => r.tokens.length)).toEqual([12, 8, 15, 10]);
    await engine.close();
    await batched.close();
  });

  it('new sequences join between steps; a long prompt runs in chunks while others decode', async () => {
    const steps: number[] = [];
    const engine = await Engine.start(model, { ...options, onStep: (rows) => steps.push(rows) });
    const order: string[] = [];
    const first = decode(engine, {
      prompt: prompt(4),
      maxTokens: 20,
      onToken: () => {
        order.push('a');
        return true;
      },
    });
    await new Promise((r) => setTimeout(r, 0));
    while (order.length < 3) await new Promise((r) => setImmediate(r));
    const second = decode(engine, {
      prompt: prompt(30),
      maxTokens: 3,
      onToken: () => {
        order.push('b');
        return true;
      },
    });
    await Promise.all([first, second]);
    // `b` joined while `a` was decoding; its 30 prompt tokens took 4 steps (chunks of 8), during
    // which `a` kept getting tokens; `b` finished before `a`.
    const firstB = order.indexOf('b');
    expect(order.slice(0, firstB).filter((x) => x === 'a').length).toBeGreaterThanOrEqual(3 + 3);
    expect(order.lastIndexOf('b')).toBeLessThan(order.lastIndexOf('a'));
    expect(steps).toContain(2);
    await engine.close();
  });

  it('refuses past the queue, frees an abandoned row at once, times out, and checks the window', async () => {
    const engine = await Engine.start(model, { ...options, maxBatch: 1, maxQueue: 1 });
    const abort = new AbortController();
    let tokens = 0;
    const running = decode(engine, {
      prompt: prompt(4),
      maxTokens: 400,
      signal: abort.signal,
      onToken: () => ++tokens > 0,
    });
    const waiting = decode(engine, { prompt: prompt(4), maxTokens: 2 });
    expect(() =>
      engine.submit({
        prompt: prompt(4),
        maxTokens: 2,
        options: {},
        onToken: () => true,
        onEnd: () => {},
      }),
    ).toThrow(QueueFullError);
    while (tokens < 3) await new Promise((r) => setImmediate(r));
    expect(engine.stats()).toMatchObject({ queued: 1, active: 1 });
    expect(engine.stats().kvPositions).toBeGreaterThan(4);
    abort.abort();
    expect((await running).reason).toBe('cancelled');
    expect((await waiting).reason).toBe('length');
    expect(engine.stats()).toMatchObject({ queued: 0, active: 0, kvPositions: 0 });
    const late = await decode(engine, {
      prompt: prompt(4),
      maxTokens: 400,
      deadline: performance.now() + 50,
    });
    expect(late.reason).toBe('timeout');
    expect(late.tokens.length).toBeLessThan(400);
    expect(() =>
      engine.submit({
        prompt: prompt(1010),
        maxTokens: 20,
        options: {},
        onToken: () => true,
        onEnd: () => {},
      }),
    ).toThrow(
      "the prompt (1010 tokens) and the completion (20) need 1030 positions; the model's window is 1024",
    );
    await engine.close();
  });

  it('sizes its rows to the KV budget, measuring the cache on the device', async () => {
    const { dModel, heads, kvHeads, layers, maxSeqLen } = microServe().model;
    const perRow = layers * 2 * kvHeads! * (dModel / heads) * maxSeqLen * 4; // f32 keys and values
    const engine = await Engine.start(model, {
      ...options,
      maxBatch: 8,
      kvBudgetBytes: 3.5 * perRow,
    });
    expect(engine.stats()).toMatchObject({ rows: 3, kvBytes: 3 * perRow, kvCapacity: 3 * 1024 });
    await engine.close();
    await expect(Engine.start(model, { ...options, kvBudgetBytes: perRow / 2 })).rejects.toThrow(
      /KV-cache budget of 0\.06 MiB holds no sequence: one row of 1024 positions takes 0\.13 MiB/,
    );
  });
});
