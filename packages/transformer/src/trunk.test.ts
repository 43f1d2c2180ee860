import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM, type Rotary, Trunk } from '@tessera/transformer';
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

  it('takes its rotation of queries and keys: its own RoPE, none, or one given', async () => {
    // Large weights, so that attention is far from uniform and positions matter.
    const config = { ...small, initStd: 0.5 };
    const weights = new Trunk(config, { causal: false }, dev).stateDict();
    const build = (rotary?: Rotary | false) => {
      const trunk = new Trunk(config, { causal: false, rotary }, dev);
      trunk.loadStateDict(weights);
      return trunk;
    };
    const x = T.randn([1, 6, small.dModel], { device: dev, seed: 7 });
    const run = (t: Trunk) => t.forward(x).data();
    const rope = build();
    const none = build(false);
    expect(none.rope).toBeUndefined();
    // A rotation given as an object is used: the trunk's own RoPE through it gives its output,
    // and without any rotation the output differs.
    const calls: number[] = [];
    const spy = build({
      apply: (t, o) => {
        calls.push(t.shape[2]!);
        return rope.rope!.apply(t, o);
      },
    });
    expect(maxRelError(await run(spy), await run(rope))).toBe(0);
    expect(calls).toEqual([6, 6, 6, 6]); // q and k of both layers
    expect(maxRelError(await run(none), await run(rope))).toBeGreaterThan(1e-3);
    // Without rotation, bidirectional attention ignores order: permuting the positions permutes
    // the output (with RoPE it does not).
    const perm = T.tensor(Int32Array.from([5, 2, 0, 4, 1, 3]), { device: dev });
    const permuted = (t: Trunk) => t.forward(T.indexSelect(x, 1, perm)).data();
    const after = (t: Trunk) => T.indexSelect(t.forward(x), 1, perm).data();
    expect(maxRelError(await permuted(none), await after(none))).toBeLessThan(1e-5);
    expect(maxRelError(await permuted(rope), await after(rope))).toBeGreaterThan(1e-3);
  });
});

describe.each(all)('packed sequences ($info.backend)', (dev) => {
  it('each example packed into one row gives the logits it gets alone (positions restart, attention stays inside)', async () => {
    const lm = new DecoderLM(small, dev);
    const examples = [
      [3, 1, 4, 1, 5],
      [9, 2, 6, 5, 3, 5, 8],
      [7, 7],
    ];
    const flat = examples.flat();
    const positions = T.tensor(
      examples.flatMap((e) => e.map((_, i) => i)),
      { device: dev, shape: [1, flat.length], dtype: 'i32' },
    );
    const documentIds = T.tensor(
      examples.flatMap((e, d) => e.map(() => d)),
      { device: dev, shape: [1, flat.length] },
    );
    const packed = await lm.forward(ids2d([flat], dev), { positions, documentIds }).data();
    const V = small.vocabSize;
    let at = 0;
    for (const e of examples) {
      const alone = await lm.forward(ids2d([e], dev)).data();
      expect(maxRelError(packed.slice(at * V, (at + e.length) * V), alone)).toBeLessThan(1e-4);
      at += e.length;
    }
    // Without the document ids the later examples see the earlier ones: different logits.
    const leaky = await lm.forward(ids2d([flat], dev), { positions }).data();
    expect(maxRelError(leaky.slice(5 * V, 12 * V), packed.slice(5 * V, 12 * V))).toBeGreaterThan(
      1e-3,
    );
    lm.dispose();
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
    expect(() => trunk.forward(h, { positions: T.zeros([1, 3], { device: cpu }) })).toThrow(
      'Trunk.forward: positions must be i32 [1, 3], got f32 [1, 3]',
    );
    const lm2 = new DecoderLM(small, cpu);
    const cache2 = lm2.createCache(1, 8);
    expect(() =>
      lm2.model.forward(h, { cache: cache2, documentIds: T.zeros([1, 3], { device: cpu }) }),
    ).toThrow(/positions and documentIds are for packed sequences without a cache/);
    cache2.dispose();
    lm2.dispose();
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
