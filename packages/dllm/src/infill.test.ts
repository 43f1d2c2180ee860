import { cropContext, infill, infillText } from '@tessera/dllm';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { reference, ToyDiffusionLM } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();

describe.each(all)('infill ($info.backend)', (device) => {
  it('fills the gap seeing both sides: the PyTorch reference', async () => {
    for (const c of reference.sampler.filter((c) => c.kind === 'infill')) {
      const r = await infill(new ToyDiffusionLM(device), c.prefix!, c.suffix!, {
        length: c.length,
        steps: c.steps,
        temperature: 0,
      });
      expect(r).toEqual({ tokens: c.tokens, forwardPasses: c.forwardPasses });
    }
  });
});

describe('infill', () => {
  it('the suffix changes the fill (a left-to-right model could not see it)', async () => {
    const model = new ToyDiffusionLM(cpu);
    const fills = await Promise.all(
      [[], [0], [4, 4, 9, 2], [11, 10, 9]].map(
        async (suffix) =>
          (await infill(model, [3, 7, 1], suffix, { length: 5, temperature: 0 })).tokens,
      ),
    );
    // The toy model sees its neighbours only: the suffix's first token decides the fill's end.
    expect(new Set(fills.map((f) => f.join())).size).toBeGreaterThan(1);
  });

  it('crops the context to the window: the end of the prefix, the start of the suffix', async () => {
    expect(cropContext([1, 2, 3, 4, 5], [6, 7, 8, 9], 4, 8)).toEqual({
      prefix: [4, 5],
      suffix: [6, 7],
    });
    expect(cropContext([1], [6, 7, 8, 9], 4, 8)).toEqual({ prefix: [1], suffix: [6, 7, 8] });
    expect(cropContext([1, 2, 3, 4, 5], [6], 4, 8)).toEqual({ prefix: [3, 4, 5], suffix: [6] });
    expect(cropContext([1, 2], [3], 4, 8)).toEqual({ prefix: [1, 2], suffix: [3] });
    expect(() => cropContext([1], [2], 9, 8)).toThrow(
      "infill: a gap of 9 tokens exceeds the model's window of 8",
    );
    const model = new ToyDiffusionLM(cpu, 8);
    const r = await infill(model, [1, 2, 3, 4, 5], [6, 7, 8, 9], { length: 4, temperature: 0 });
    expect(r.tokens).toHaveLength(4);
    expect(Math.max(...model.canvases)).toBe(8);
  });

  it('infillText decodes the gap', async () => {
    const codec = {
      encode: (s: string) => Array.from(s, (c) => c.charCodeAt(0) - 97),
      decode: (ids: Iterable<number>) => String.fromCharCode(...Array.from(ids, (i) => i + 97)),
    };
    const c = reference.sampler.find((c) => c.kind === 'infill')!;
    const text = await infillText(
      new ToyDiffusionLM(cpu),
      codec,
      codec.decode(c.prefix!),
      codec.decode(c.suffix!),
      {
        length: c.length,
        steps: c.steps,
        temperature: 0,
      },
    );
    expect(text).toBe(codec.decode(c.tokens));
    await expect(
      infill(new ToyDiffusionLM(cpu), [1], [2], { length: 3, gap: 1 } as never),
    ).rejects.toThrow(/infill: unknown option "gap"/);
  });
});
