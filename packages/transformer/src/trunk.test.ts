import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM, Trunk } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { ids2d, settledLiveBytes, small } from './test-utils/fixtures.js';

const { all, cpu } = await testDevices();

describe.each(all)('Trunk ($info.backend)', (dev) => {
  it("is the decoder's body: the LM's hidden states, by the same names", async () => {
    const lm = new DecoderLM(small, dev);
    const trunk = new Trunk(small, { causal: true }, dev);
    trunk.loadStateDict(
      Object.fromEntries(
        Object.entries(lm.stateDict())
          .filter(([k]) => k.startsWith('model.'))
          .map(([k, t]) => [k.slice('model.'.length), t]),
      ),
    );
    const ids = ids2d([[3, 1, 4, 1, 5]], dev);
    const hidden = await trunk.forward(trunk.embed(ids)).data();
    expect(maxRelError(hidden, await lm.hidden(ids).data())).toBe(0);
  });

  it('without token embeddings (vision patches), takes embeddings only', async () => {
    const trunk = new Trunk(small, { causal: false, tokenEmbeddings: false }, dev);
    expect(Object.keys(trunk.stateDict()).some((k) => k.startsWith('embed_tokens'))).toBe(false);
    const patches = T.randn([2, 9, small.dModel], { device: dev, seed: 2 });
    expect(trunk.forward(trunk.embed(patches)).shape).toEqual([2, 9, small.dModel]);
    expect(() => trunk.embed(ids2d([[1]], dev))).toThrow(/this trunk has no token embeddings/);
  });
});

describe('Trunk errors and memory', () => {
  it('names bad inputs and options', () => {
    const trunk = new Trunk(small, { causal: true }, cpu);
    const h = T.zeros([1, 3, small.dModel], { device: cpu });
    expect(() => trunk.forward(h, { rows: [0] })).toThrow(
      /rows name cache rows; pass the cache too/,
    );
    const lm = new DecoderLM(small, cpu);
    const cache = lm.createCache(3, 8);
    expect(() => lm.model.forward(h, { cache, rows: [0, 2] })).toThrow(
      'Trunk.forward: rows names 2 cache rows for a batch of 1 (one per batch row)',
    );
    cache.dispose();
    lm.dispose();
    expect(() => trunk.forward(h, { cache: 1 } as never)).toThrow();
    expect(() => trunk.forward(h, { padding: h } as never)).toThrow(
      /Trunk\.forward: unknown option "padding"/,
    );
    expect(() => new Trunk(small, { causal: true, embed: false } as never, cpu)).toThrow(
      /Trunk: unknown option "embed"/,
    );
    expect(() => trunk.embed(T.zeros([1, 3, 7], { device: cpu }))).toThrow(
      /input must be i32 ids \[batch, T\] or embeddings \[batch, T, 32\], got f32 \[1, 3, 7\]/,
    );
  });

  it('dispose frees the parameters, their gradients and the RoPE tables', async () => {
    const before = await settledLiveBytes(cpu);
    const trunk = new Trunk(small, { causal: true }, cpu);
    T.tidy(() => T.sum(trunk.forward(trunk.embed(ids2d([[1, 2]], cpu)))).backward());
    expect(trunk.parameters().every((p) => p.grad)).toBe(true);
    trunk.dispose();
    expect(cpu.memory().liveBytes).toBe(before);
  });
});
