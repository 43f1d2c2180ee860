import { type DiffusionLM, denoise } from '@tessera/dllm';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { reference, ToyDiffusionLM } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const MASK = reference.toy.maskId;

describe.each(all)('denoise against the PyTorch reference ($info.backend)', (device) => {
  it.each(
    reference.sampler.map((c) => [
      `${c.kind} ${c.length} tokens, ${c.steps ?? 'threshold'} steps${c.blockLength ? `, blocks of ${c.blockLength}` : ''}${c.threshold ? `, threshold ${c.threshold}` : ''}${c.window ? `, window ${c.window}` : ''}`,
      c,
    ]),
  )('%s', async (_, c) => {
    const model = new ToyDiffusionLM(device, c.window);
    const r = await denoise(
      model,
      { left: [c.prompt ?? c.prefix!], length: c.length, right: c.suffix ? [c.suffix] : undefined },
      { steps: c.steps, blockLength: c.blockLength, threshold: c.threshold, temperature: 0 },
    );
    expect(r.tokens).toEqual([c.tokens]);
    expect(r.forwardPasses).toBe(c.forwardPasses);
    expect(model.canvases).toHaveLength(c.forwardPasses);
    if (c.window) expect(Math.max(...model.canvases)).toBeLessThanOrEqual(c.window);
  });
});

describe('denoise', () => {
  it('rows of a batch get the tokens each gets alone', async () => {
    const cases = reference.sampler.filter(
      (c) => c.kind === 'generate' && !c.window && c.length === 12,
    );
    const model = new ToyDiffusionLM(cpu);
    const r = await denoise(
      model,
      {
        left: [
          [3, 7, 1],
          [3, 7, 1],
        ],
        length: 12,
      },
      { blockLength: 4, threshold: 0.6, temperature: 0 },
    );
    const alone = cases.find((c) => c.threshold === 0.6 && c.steps === undefined)!;
    expect(r.tokens).toEqual([alone.tokens, alone.tokens]);
    const two = await denoise(
      model,
      {
        left: [
          [3, 7, 1],
          [5, 0, 2],
        ],
        length: 8,
      },
      { temperature: 0 },
    );
    const second = await denoise(model, { left: [[5, 0, 2]], length: 8 }, { temperature: 0 });
    expect(two.tokens[1]).toEqual(second.tokens[0]);
  });

  it('commits the scheduled number per step, never changes a committed token, never emits the mask', async () => {
    for (const remasking of ['low-confidence', 'random'] as const) {
      const spans: number[][] = [];
      const r = await denoise(
        new ToyDiffusionLM(cpu),
        { left: [[1]], length: 12 },
        {
          steps: 6,
          blockLength: 6,
          remasking,
          schedule: 'cosine',
          seed: 4,
          onStep: ([span]) => spans.push([...span!]),
        },
      );
      expect(r.tokens[0]).not.toContain(MASK);
      // cosine over 3 steps of a 6-token block: 1, 2, 3 per step (steps that commit 0 are skipped).
      let previous = new Array<number>(12).fill(MASK);
      const committed: number[] = [];
      for (const span of spans) {
        committed.push(span.filter((id, i) => id !== MASK && previous[i] === MASK).length);
        for (const [i, id] of previous.entries()) if (id !== MASK) expect(span[i]).toBe(id);
        previous = span;
      }
      expect(committed).toEqual([1, 2, 3, 1, 2, 3]);
      expect(r.forwardPasses).toBe(6);
    }
  });

  it('is reproducible by seed when it samples, and the seed matters', async () => {
    const run = (seed: number) =>
      denoise(
        new ToyDiffusionLM(cpu),
        { left: [[2]], length: 10 },
        { seed, steps: 5, remasking: 'random' },
      );
    expect((await run(1)).tokens).toEqual((await run(1)).tokens);
    const seeds = await Promise.all([1, 2, 3, 4].map(run));
    expect(new Set(seeds.map((s) => s.tokens[0]!.join())).size).toBeGreaterThan(1);
  });

  it("runs the sampler's processors per position", async () => {
    const model = new ToyDiffusionLM(cpu);
    const greedy = await denoise(model, { left: [[3]], length: 8 }, { temperature: 0 });
    const topOne = await denoise(model, { left: [[3]], length: 8 }, { topK: 1, seed: 9 });
    expect(topOne.tokens).toEqual(greedy.tokens);
    const banned = await denoise(
      model,
      { left: [[3]], length: 8 },
      { temperature: 0, bannedTokens: [4] },
    );
    expect(banned.tokens[0]).not.toContain(4);
    const forced = await denoise(
      model,
      { left: [[3]], length: 8 },
      { temperature: 0, forcedToken: (i) => (i === 5 ? 11 : undefined) },
    );
    expect(forced.tokens[0]![5]).toBe(11);
  });

  it('never proposes the mask token, even when the model scores it highest', async () => {
    const maskFirst: DiffusionLM = {
      vocabSize: 4,
      maskId: 3,
      device: cpu,
      forward: (ids) =>
        T.mul(T.ones([...ids.shape, 4], { device: cpu }), T.tensor([0, 1, 2, 9], { device: cpu })),
    };
    const r = await denoise(maskFirst, { left: [[0]], length: 3 }, { temperature: 0 });
    expect(r.tokens).toEqual([[2, 2, 2]]);
  });

  it('slides a window of the last tokens when a generation outgrows the model', async () => {
    const model = new ToyDiffusionLM(cpu, 10);
    const r = await denoise(
      model,
      { left: [[1, 2, 3, 4]], length: 16 },
      { blockLength: 4, temperature: 0 },
    );
    expect(r.tokens[0]).toHaveLength(16);
    expect(model.canvases.every((n) => n <= 10)).toBe(true);
    expect(model.canvases).toContain(10);
  });

  it('names bad options and inputs', async () => {
    const model = new ToyDiffusionLM(cpu, 10);
    const run = (input: object, options: object = {}) =>
      denoise(model, { left: [[1]], length: 8, ...input }, options);
    await expect(run({}, { blockLength: 3 })).rejects.toThrow(
      'denoise: blockLength must be an integer in 1..8 that divides the length 8, got 3',
    );
    await expect(run({}, { steps: 3, blockLength: 4 })).rejects.toThrow(
      'denoise: steps must be a multiple of the 2 block(s) of at most 4 per block (1 token per step), got 3',
    );
    await expect(run({}, { steps: 16 })).rejects.toThrow(/got 16/);
    await expect(run({}, { threshold: 0 })).rejects.toThrow(
      'denoise: threshold must be in (0, 1], got 0',
    );
    await expect(run({}, { threshold: 0.5, remasking: 'random' })).rejects.toThrow(
      /threshold needs low-confidence remasking/,
    );
    await expect(run({}, { remasking: 'lowest' })).rejects.toThrow(
      `denoise: remasking must be 'low-confidence' or 'random', got "lowest"`,
    );
    await expect(run({}, { temperature: -1 })).rejects.toThrow(
      /temperature must be a finite number >= 0, got -1/,
    );
    await expect(run({}, { topP: 2 })).rejects.toThrow(/topP must be in \(0, 1\], got 2/);
    await expect(run({}, { blocks: 2 })).rejects.toThrow(/denoise: unknown option "blocks"/);
    await expect(run({ left: [[MASK]] })).rejects.toThrow(
      `denoise: left id ${MASK} is not a token of the vocabulary (0..12, not the mask id 12)`,
    );
    await expect(run({ left: [[1], [1, 2]] })).rejects.toThrow(
      'denoise: every row of left must have the same length (1), got one of 2',
    );
    await expect(run({ right: [[1, 2, 3]] })).rejects.toThrow(
      "denoise: the canvas (1 + 8 + 3 tokens) exceeds the model's window of 10; crop the context (infill does)",
    );
    await expect(run({ length: 10 })).rejects.toThrow(
      "denoise: 1 + 10 tokens exceed the model's window of 10, so blocks slide it; blockLength must then be < 10, got 10",
    );
  });
});
