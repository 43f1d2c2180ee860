import {
  DecodeBatch,
  type GenerateOptions,
  generate,
  generateBatch,
  type LogitsProcessor,
} from '@tessera/sampler';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { BigramLM, TrigramLM } from './test-utils/toy-models.js';

const { all, cpu } = await testDevices();

/** What `prompt` gives decoded alone. */
async function alone(lm: TrigramLM, prompt: number[], o: GenerateOptions): Promise<number[]> {
  const out: number[] = [];
  for await (const id of generate(lm, prompt, o)) out.push(id);
  return out;
}

const prompts = [[3], [1, 4, 1, 5], [9, 2, 6, 5, 3, 5, 8]];

describe.each(all)('batched generation ($info.backend)', (dev) => {
  it('a batch of prompts of different lengths gives each prompt its tokens alone (greedy)', async () => {
    const lm = new TrigramLM(dev, 10);
    const o = { temperature: 0, maxNewTokens: 12 };
    const want = await Promise.all(prompts.map((p) => alone(lm, p, o)));
    lm.calls.length = 0;
    expect(await generateBatch(lm, prompts, o)).toEqual(want);
    // One pass per prompt (three lengths), then one pass for all three rows at every step.
    expect(lm.calls.slice(0, 3)).toEqual([
      [1, 1],
      [1, 4],
      [1, 7],
    ]);
    expect(lm.calls.slice(3).every(([n, t]) => n === 3 && t === 1)).toBe(true);
  });

  it('sampling with a seed per prompt gives each prompt its tokens alone; rows leave when done', async () => {
    const lm = new TrigramLM(dev, 10);
    const options = prompts.map((_, i) => ({
      temperature: 0.9,
      topK: 6,
      seed: 100 + i,
      maxNewTokens: 4 + 4 * i, // rows finish at different steps
      repetitionPenalty: 1.2,
    }));
    const want = await Promise.all(prompts.map((p, i) => alone(lm, p, options[i]!)));
    lm.calls.length = 0;
    expect(await generateBatch(lm, prompts, options)).toEqual(want);
    const decodeRows = lm.calls.slice(3).map(([n]) => n);
    expect(decodeRows).toEqual([
      ...new Array(3).fill(3),
      ...new Array(4).fill(2),
      ...new Array(4).fill(1),
    ]);
  });

  it('continuous batching: rows join and leave between steps and keep their own tokens', async () => {
    const lm = new TrigramLM(dev, 10);
    const o = { temperature: 0, maxNewTokens: 8 };
    const batch = new DecodeBatch(lm, { rows: 2, maxLength: 32 });
    const tokens = new Map<number, number[]>();
    const collect = async () => {
      for (const { row, token } of await batch.step()) tokens.get(row)!.push(token);
    };
    const a = batch.add(prompts[1]!, o);
    tokens.set(a, []);
    await collect();
    await collect();
    const b = batch.add(prompts[2]!, o); // joins while `a` is two tokens in
    tokens.set(b, []);
    expect(batch.active).toEqual([a, b]);
    await collect();
    batch.remove(a); // abandoned after three tokens
    expect(batch.free).toEqual([a]);
    const c = batch.add(prompts[0]!, o); // takes the freed row
    expect(c).toBe(a);
    const aTokens = tokens.get(a)!.splice(0);
    while (batch.active.length) await collect();
    expect(aTokens).toEqual((await alone(lm, prompts[1]!, o)).slice(0, 3));
    expect(tokens.get(b)).toEqual(await alone(lm, prompts[2]!, o));
    expect(tokens.get(c)).toEqual(await alone(lm, prompts[0]!, o));
    batch.dispose();
  });

  it('generateBatch with fewer rows than prompts fills rows as they free', async () => {
    const lm = new TrigramLM(dev, 10);
    const many = [...prompts, [7, 7], [0, 1, 2]];
    const o = many.map((_, i) => ({ temperature: 0, maxNewTokens: 3 + i }));
    const want = await Promise.all(many.map((p, i) => alone(lm, p, o[i]!)));
    expect(await generateBatch(lm, many, o, { rows: 2 })).toEqual(want);
    expect(lm.caches.at(-1)!.rows).toBe(2);
    expect(lm.caches.every((c) => c.disposed)).toBe(true);
  });
});

describe.each(all)('what a server needs of DecodeBatch ($info.backend)', (dev) => {
  it('chunked prefill: a long prompt runs in chunks while another row keeps decoding, and gets its tokens alone', async () => {
    const lm = new TrigramLM(dev, 10);
    const o = { temperature: 0.8, seed: 5, maxNewTokens: 6 };
    const long = [4, 1, 5, 9, 2, 6, 5, 3, 5];
    const batch = new DecodeBatch(lm, { rows: 2, maxLength: 32, prefillChunk: 4 });
    const a = batch.add(prompts[0]!, o);
    const tokens = new Map<number, number[]>([[a, []]]);
    const collect = async () => {
      const step = await batch.step();
      for (const { row, token } of step) tokens.get(row)!.push(token);
      return step.map((t) => t.row);
    };
    await collect();
    const b = batch.add(long, o);
    tokens.set(b, []);
    lm.calls.length = 0;
    // 9 prompt tokens in chunks of 4: two steps give `b` nothing while `a` gets a token each.
    expect(await collect()).toEqual([a]);
    expect(await collect()).toEqual([a]);
    expect(await collect()).toEqual([a, b]);
    // Its last chunk is one token: it shares the decoding row's pass.
    expect(lm.calls.slice(0, 5)).toEqual([
      [1, 1],
      [1, 4],
      [1, 1],
      [1, 4],
      [2, 1],
    ]);
    while (batch.active.length) await collect();
    expect(tokens.get(a)).toEqual(await alone(lm, prompts[0]!, o));
    expect(tokens.get(b)).toEqual(await alone(lm, long, o));
    batch.dispose();
  });

  it("logprobs: the chosen token's and the top n, of the model's distribution before processors", async () => {
    const lm = new BigramLM(dev, [
      [0, 3, 1, 0],
      [0, 0, 3, 1],
      [2, 0, 0, 2],
      [3, 0, 0, 0],
    ]);
    const batch = new DecodeBatch(lm, { rows: 2, maxLength: 8 });
    batch.add([0], { temperature: 0.5, topK: 1, maxNewTokens: 1, logprobs: 3 });
    batch.add([2], { temperature: 0, maxNewTokens: 1, logprobs: 0 });
    const [first, second] = await batch.step();
    const logZ = (row: number[]) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    expect(first!.token).toBe(1);
    expect(first!.logprob).toBeCloseTo(3 - logZ([0, 3, 1, 0]), 6);
    expect(first!.topLogprobs!.map((t) => t.token)).toEqual([1, 2, 0]); // tie 0/3: lower id
    expect(first!.topLogprobs![2]!.logprob).toBeCloseTo(-logZ([0, 3, 1, 0]), 6);
    expect(second!.token).toBe(0); // greedy takes the first of the tied ids 0 and 3
    expect(second!.logprob).toBeCloseTo(2 - logZ([2, 0, 0, 2]), 6);
    expect(second!.topLogprobs).toEqual([]);
    batch.dispose();
  });

  it('a mask applies before top-k, so top-k keeps the best allowed token', async () => {
    const lm = new BigramLM(dev, [
      [0, 3, 1, 0],
      [0, 0, 3, 1],
      [0, 0, 0, 3],
      [3, 0, 0, 0],
    ]);
    const seen: number[] = [];
    const onlyEven: LogitsProcessor = (logits, ctx) => {
      seen.push(ctx.step);
      for (let i = 1; i < logits.length; i += 2) logits[i] = Number.NEGATIVE_INFINITY;
    };
    const out = await generateBatch(lm, [[0]], { topK: 1, mask: onlyEven, maxNewTokens: 3 });
    expect(out).toEqual([[2, 0, 2]]);
    expect(seen).toEqual([0, 1, 2]);
  });
});

describe('DecodeBatch errors', () => {
  it('names a full batch, unknown rows and options, and a step still running', async () => {
    const lm = new TrigramLM(cpu, 10);
    const batch = new DecodeBatch(lm, { rows: 1, maxLength: 16 });
    batch.add([1], { maxNewTokens: 2 });
    expect(() => batch.add([2])).toThrow(/all 1 rows are busy/);
    expect(() => batch.remove(3)).toThrow(/row 3 is not decoding/);
    const running = batch.step();
    await expect(batch.step()).rejects.toThrow(/the previous step has not finished/);
    await running;
    expect(() => batch.add([1], { maxNewTokens: 0 })).toThrow(
      /maxNewTokens must be an integer >= 1, got 0/,
    );
    expect(() => batch.add([1], { topk: 3 } as never)).toThrow(/generate: unknown option "topk"/);
    expect(() => batch.add([1], { logprobs: 21 })).toThrow(
      /logprobs must be an integer in 0..20, got 21/,
    );
    expect(() => batch.add([1], { mask: 3 as never })).toThrow(/mask must be a logits processor/);
    expect(() => new DecodeBatch(lm, { rows: 1, maxLength: 4, prefillChunk: 0 })).toThrow(
      /prefillChunk must be an integer >= 1, got 0/,
    );
    expect(() => new DecodeBatch(lm, { rows: 1, chunk: 2 } as never)).toThrow(
      /DecodeBatch: unknown option "chunk"/,
    );
    await expect(generateBatch(lm, [[1], [2]], [{}])).rejects.toThrow(/1 options for 2 prompts/);
    await expect(generateBatch(lm, [[1]], {}, { row: 1 } as never)).rejects.toThrow(
      /generateBatch: unknown option "row"/,
    );
  });
});
