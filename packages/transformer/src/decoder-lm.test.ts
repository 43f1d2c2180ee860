import { MoE } from '@tessera/moe';
import { AdamW } from '@tessera/optim';
import { type CausalLM, generate, generateBatch, tokenLogprobs } from '@tessera/sampler';
import type { Device } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { type DecoderCache, DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { ids2d, llama, settledLiveBytes, small } from './test-utils/fixtures.js';

const { all, cpu, underTest } = await testDevices();

/** log-softmax of one row, in float64. */
function logSoftmax(z: ArrayLike<number>): number[] {
  const row = Array.from(z);
  const max = Math.max(...row);
  const logZ = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
  return row.map((x) => x - logZ);
}

describe.each(all)('DecoderLM ($info.backend)', (dev) => {
  it('loads a Hugging Face Llama checkpoint by name and reproduces its logits', async () => {
    const lm = new DecoderLM(llama.config, dev);
    lm.load(llama.checkpoint);
    const ids = ids2d(llama.ids, dev);
    expect(maxRelError(await lm.forward(ids).data(), llama.logits)).toBeLessThan(1e-4);
  });

  it("tokenLogprobs of the checkpoint equals the log-softmax of PyTorch's logits", async () => {
    const lm = new DecoderLM(llama.config, dev);
    lm.load(llama.checkpoint);
    const [b, t, v] = [2, 8, llama.config.vocabSize];
    const got = await T.noGrad(() => tokenLogprobs(lm, ids2d(llama.ids, dev), { from: 3 })).data();
    for (let r = 0; r < b; r++)
      for (let i = 0; i < t; i++) {
        const want =
          i < 3
            ? 0
            : logSoftmax(llama.logits.slice((r * t + i - 1) * v, (r * t + i) * v))[
                llama.ids[r]![i]!
              ]!;
        expect(got[r * t + i]).toBeCloseTo(want, 4);
      }
  });

  it('generation with and without the KV cache gives identical tokens at temperature 0', async () => {
    const lm = new DecoderLM(small, dev);
    const run = async (useCache: boolean) => {
      const out: number[] = [];
      for await (const id of generate(lm, [1, 2, 3], {
        temperature: 0,
        maxNewTokens: 12,
        useCache,
      }))
        out.push(id);
      return out;
    };
    const cached = await run(true);
    expect(cached).toHaveLength(12);
    expect(cached).toEqual(await run(false));
  });

  it('generates past maxSeqLen by keeping a window of the context', async () => {
    const lm = new DecoderLM({ ...small, maxSeqLen: 16 }, dev);
    for (const useCache of [true, false]) {
      const out: number[] = [];
      for await (const id of generate(lm, [1, 2, 3], {
        temperature: 0,
        maxNewTokens: 30,
        useCache,
      }))
        out.push(id);
      expect(out).toHaveLength(30);
    }
  });

  it('rows of a cache at different positions give the logits of each row alone', async () => {
    const lm = new DecoderLM(small, dev);
    const seqs = [
      [5, 9, 2, 7, 7, 1, 30, 4, 4],
      [11, 3],
      [8, 1, 6, 40, 2],
    ];
    const cache = lm.createCache(3, 32);
    // Prefill each row with all but its last token, then one step for rows 2 and 0 only.
    T.noGrad(() => {
      for (const [r, s] of seqs.entries())
        lm.forward(ids2d([s.slice(0, -1)], dev), { cache, rows: [r] });
    });
    expect(cache.lengths).toEqual([8, 1, 4]);
    const step = T.noGrad(() =>
      lm.forward(ids2d([[seqs[2]!.at(-1)!], [seqs[0]!.at(-1)!]], dev), { cache, rows: [2, 0] }),
    );
    expect(cache.lengths).toEqual([9, 1, 5]);
    const got = await step.data();
    for (const [i, r] of [2, 0].entries()) {
      const s = seqs[r]!;
      const full = await T.contiguous(T.slice(lm.forward(ids2d([s], dev)), 1, s.length - 1)).data();
      expect(maxRelError(got.slice(i * 50, (i + 1) * 50), full)).toBeLessThan(1e-4);
    }
    cache.dispose();
  });

  it('a batch of prompts at different lengths decodes the same tokens as each alone', async () => {
    const lm = new DecoderLM(small, dev);
    const prompts = [[4], [7, 1, 9, 9, 2], [33, 12, 8]];
    const greedy = { temperature: 0, maxNewTokens: 10 };
    const sampled = prompts.map((_, i) => ({ temperature: 1, seed: 7 + i, maxNewTokens: 10 }));
    for (const options of [prompts.map(() => greedy), sampled]) {
      const alone = [];
      for (const [i, p] of prompts.entries()) {
        const out: number[] = [];
        for await (const id of generate(lm, p, options[i]!)) out.push(id);
        alone.push(out);
      }
      expect(await generateBatch(lm, prompts, options)).toEqual(alone);
    }
  });

  it('frees its KV cache when the consumer stops generating early', async () => {
    const lm = new DecoderLM(small, dev);
    const before = await settledLiveBytes(dev);
    for await (const _ of generate(lm, [1, 2], { maxNewTokens: 40 })) break;
    expect(dev.memory().liveBytes).toBe(before);
  });
});

describe('training and shapes', () => {
  it.each(underTest)(
    "one training step gives the CPU reference's gradients ($info.backend)",
    async (dev) => {
      const grads = async (on: Device) => {
        const lm = new DecoderLM({ ...small, ffn: 'gelu', norm: 'layer' }, on);
        const ids = T.tensor(
          Int32Array.from({ length: 2 * 10 }, (_, i) => (i * 7) % 50),
          { device: on, shape: [2, 10] },
        );
        const targets = T.tensor(
          Int32Array.from({ length: 2 * 10 }, (_, i) => (i * 7 + 3) % 50),
          { device: on, shape: [2, 10] },
        );
        T.crossEntropy(lm.forward(ids), targets).backward();
        return Promise.all(lm.parameters().map((p) => p.grad!.data()));
      };
      const [g1, g2] = [await grads(dev), await grads(cpu)];
      for (const [i, g] of g1.entries()) expect(maxRelError(g, g2[i]!)).toBeLessThan(2e-4);
    },
  );

  it.each(all)(
    'loss decreases when overfitting a fixed tiny batch ($info.backend)',
    async (dev) => {
      const lm = new DecoderLM({ ...small, tiedEmbeddings: true }, dev);
      const opt = new AdamW(lm.parameters(), { lr: 1e-2, weightDecay: 0 });
      const ids = T.tensor(
        Int32Array.from({ length: 16 }, (_, i) => (i * 5) % 50),
        { device: dev, shape: [1, 16] },
      );
      const targets = T.tensor(
        Int32Array.from({ length: 16 }, (_, i) => (i * 5 + 5) % 50),
        { device: dev, shape: [1, 16] },
      );
      const losses: number[] = [];
      for (let step = 0; step < 30; step++) {
        const loss = T.tidy(() => {
          opt.zeroGrad();
          const l = T.crossEntropy(lm.forward(ids), targets);
          l.backward();
          opt.step();
          return l;
        });
        losses.push(await loss.item());
        loss.dispose();
      }
      expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.3);
    },
  );

  it('counts parameters and FLOPs per token (6N + attention)', () => {
    const lm = new DecoderLM({ ...small, tiedEmbeddings: false }, cpu);
    const c = lm.config;
    const perLayer =
      2 * c.dModel +
      c.dModel * c.heads * c.headDim * 2 +
      c.dModel * c.kvHeads * c.headDim * 2 +
      3 * c.dModel * c.ffnHidden;
    const expected = c.vocabSize * c.dModel * 2 + c.dModel + c.layers * perLayer;
    expect(lm.numParameters()).toBe(expected);
    const f = lm.flopsPerToken(64);
    expect(f.weights).toBe(6 * (expected - c.vocabSize * c.dModel));
    expect(f.attention).toBe(12 * c.layers * 64 * c.heads * c.headDim);
    expect(Object.keys(lm.stateDict())).toContain('model.layers.1.self_attn.k_proj.weight');
    expect(Object.keys(lm.stateDict())).toContain('lm_head.weight');
  });

  it('takes embeddings instead of ids, so other tokens can be prepended', async () => {
    const lm = new DecoderLM(small, cpu);
    const ids = ids2d([[4, 8, 15, 16]], cpu);
    const viaIds = await lm.forward(ids).data();
    expect(maxRelError(await lm.forward(lm.model.embed(ids)).data(), viaIds)).toBe(0);
    // Two "vision" vectors before the text: the text's logits now see them.
    const vision = T.randn([1, 2, small.dModel], { device: cpu, seed: 5 });
    const mixed = lm.forward(T.cat([vision, lm.model.embed(ids)], 1));
    expect(mixed.shape).toEqual([1, 6, small.vocabSize]);
    const textPart = await T.contiguous(T.slice(mixed, 1, 2)).data();
    expect(maxRelError(textPart, viaIds)).toBeGreaterThan(1e-3);
  });

  it('dispose frees every tensor the model holds', async () => {
    const before = await settledLiveBytes(cpu);
    const lm = new DecoderLM(small, cpu);
    expect(cpu.memory().liveBytes).toBeGreaterThan(before);
    lm.dispose();
    expect(cpu.memory().liveBytes).toBe(before);
  });

  it('is a CausalLM with a typed cache', () => {
    const lm: CausalLM<DecoderCache> = new DecoderLM(small, cpu);
    const cache = lm.createCache!(2, 100);
    expect(cache.maxLength).toBe(64); // at most maxSeqLen
    expect(cache.rows).toBe(2);
    cache.dispose();
  });

  it('names bad configs, inputs and options', () => {
    expect(() => new DecoderLM({ ...small, kvHeads: 3 }, cpu)).toThrow(
      /kvHeads \(3\) must divide heads \(4\)/,
    );
    expect(() => new DecoderLM({ ...small, layers: 0 }, cpu)).toThrow(
      /layers must be a positive integer, got 0/,
    );
    const lm = new DecoderLM(small, cpu);
    expect(() => lm.forward(T.zeros([1, 4], { device: cpu }))).toThrow(
      /input must be i32 ids \[batch, T\] or embeddings \[batch, T, 32\], got f32 \[1, 4\]/,
    );
    expect(() => lm.forward(T.zeros([1, 65], { device: cpu, dtype: 'i32' }))).toThrow(
      /65 positions exceed maxSeqLen 64/,
    );
    expect(() => lm.forward(ids2d([[1]], cpu), { cahce: 1 } as never)).toThrow(
      /DecoderLM\.forward: unknown option "cahce"/,
    );
    const cache = lm.createCache(1, 4);
    expect(() => lm.forward(ids2d([[1, 2, 3, 4, 5]], cpu), { cache })).toThrow(
      /row 0 holds 0 positions; 5 more exceed its maxLength 4/,
    );
  });
});

describe.each(all)('DecoderLM with a mixture of experts ($info.backend)', (dev) => {
  const moeConfig = { ...small, ffn: 'moe', moe: { experts: 4, topK: 2, hidden: 24 } } as const;

  it('is rebuilt from its JSON config and weights, with the same logits', async () => {
    const lm = new DecoderLM(moeConfig, dev);
    expect(lm.model.layers[1]!.mlp).toBeInstanceOf(MoE);
    const again = new DecoderLM(JSON.parse(JSON.stringify(lm.config)), dev);
    again.load(await lm.save());
    lm.eval();
    again.eval();
    const ids = ids2d([[3, 1, 4, 1, 5, 9]], dev);
    const [a, b] = [await lm.forward(ids).data(), await again.forward(ids).data()];
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('decodes the same tokens with and without the KV cache, and collects its aux losses', async () => {
    const lm = new DecoderLM(moeConfig, dev);
    T.noGrad(() => lm.forward(ids2d([[3, 1, 4, 1]], dev)));
    expect(Object.keys(lm.auxLosses())).toEqual(['model.layers.0.mlp', 'model.layers.1.mlp']);
    lm.eval();
    const run = async (useCache: boolean) => {
      const out: number[] = [];
      for await (const id of generate(lm, [1, 2, 3], { temperature: 0, maxNewTokens: 8, useCache }))
        out.push(id);
      return out;
    };
    const cached = await run(true);
    expect(cached).toHaveLength(8);
    expect(cached).toEqual(await run(false));
  });

  it('counts the parameters a token uses, and its FLOPs from them', () => {
    const lm = new DecoderLM({ ...moeConfig, moe: { ...moeConfig.moe, sharedExperts: 1 } }, dev);
    const perExpert = 3 * small.dModel * 24;
    // Per layer: 4 routed experts of which 2 run; the router and the shared expert always run.
    expect(lm.numParameters() - lm.activeParameters()).toBe(small.layers * 2 * perExpert);
    const dense = new DecoderLM({ ...small, ffnHidden: 3 * 24 }, dev);
    // Router [4, dModel] aside, top-2 of 24-wide experts + a 24-wide shared one = 72-wide SwiGLU.
    expect(lm.activeParameters()).toBe(dense.numParameters() + small.layers * 4 * small.dModel);
    const lookup = small.vocabSize * small.dModel; // untied: the embedding is no matmul
    expect(lm.flopsPerToken(16).weights).toBe(6 * (lm.activeParameters() - lookup));
  });
});
