import { cutAtStops, generate, generateText } from '@tessera/dllm';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { reference, ToyDiffusionLM } from './test-utils/fixture.js';

const { cpu } = await testDevices();

/** Text ↔ ids of the toy vocabulary: id i is the letter 'a' + i. */
const codec = {
  encode: (s: string) => Array.from(s, (c) => c.charCodeAt(0) - 97),
  decode: (ids: Iterable<number>) => String.fromCharCode(...Array.from(ids, (i) => i + 97)),
};

describe('generate', () => {
  it("is LLaDA's generate: the PyTorch reference's tokens and forward passes", async () => {
    for (const c of reference.sampler.filter((c) => c.kind === 'generate' && !c.window)) {
      const r = await generate(new ToyDiffusionLM(cpu), c.prompt!, {
        length: c.length,
        steps: c.steps,
        blockLength: c.blockLength,
        threshold: c.threshold,
        temperature: 0,
      });
      expect(r).toEqual({ tokens: c.tokens, forwardPasses: c.forwardPasses });
    }
  });

  it('fewer steps than tokens: fewer forward passes; an empty prompt works', async () => {
    const model = new ToyDiffusionLM(cpu);
    const r = await generate(model, [], { length: 16, steps: 4, temperature: 0 });
    expect(r.tokens).toHaveLength(16);
    expect(r.forwardPasses).toBe(4);
    await expect(generate(model, [1], { length: 8, step: 2 } as never)).rejects.toThrow(
      /generate: unknown option "step"/,
    );
  });

  it('generateText decodes the span and cuts it at the first stop sequence', async () => {
    const model = new ToyDiffusionLM(cpu);
    const c = reference.sampler[0]!;
    const full = codec.decode(c.tokens);
    const text = await generateText(model, codec, codec.decode(c.prompt!), {
      length: c.length,
      temperature: 0,
    });
    expect(text).toBe(full);
    const stop = full.slice(3, 5);
    const cut = await generateText(model, codec, codec.decode(c.prompt!), {
      length: c.length,
      temperature: 0,
      stopSequences: ['zz', stop],
    });
    expect(cut).toBe(full.slice(0, full.indexOf(stop)));
  });

  it('cutAtStops keeps text without stops whole and ignores empty ones', () => {
    expect(cutAtStops('abcabc', ['ca', 'b'])).toBe('a');
    expect(cutAtStops('abc', ['', 'x'])).toBe('abc');
  });
});
