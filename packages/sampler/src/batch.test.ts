import { DecodeBatch, type GenerateOptions, generate, generateBatch } from '@tessera/sampler';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { TrigramLM } from './test-utils/toy-models.js';

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
    await expect(generateBatch(lm, [[1], [2]], [{}])).rejects.toThrow(/1 options for 2 prompts/);
    await expect(generateBatch(lm, [[1]], {}, { row: 1 } as never)).rejects.toThrow(
      /generateBatch: unknown option "row"/,
    );
  });
});
