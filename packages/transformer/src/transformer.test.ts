import { readFileSync } from 'node:fs';
import { AdamW } from '@tessera/optim';
import { generate } from '@tessera/sampler';
import type { Device } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM, Encoder, type TransformerConfig } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';

const { all, gpu, cpu } = await testDevices();
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/tiny-llama.json', import.meta.url), 'utf8'),
);
const checkpoint = new Uint8Array(
  readFileSync(new URL('../fixtures/tiny-llama.safetensors', import.meta.url)),
);

const small: TransformerConfig = {
  vocabSize: 50,
  dModel: 32,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  maxSeqLen: 64,
  seed: 3,
};

describe.each(all)('DecoderLM ($info.backend)', (dev) => {
  it('loads a Hugging Face Llama checkpoint by name and reproduces its logits', async () => {
    const lm = new DecoderLM(fixture.config, dev);
    lm.load(checkpoint);
    const ids = T.tensor(Int32Array.from(fixture.ids.flat()), { device: dev, shape: [2, 8] });
    expect(maxRelError(await lm.forward(ids).data(), fixture.logits)).toBeLessThan(1e-4);
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
});

describe('training and shapes', () => {
  it('one training step gives the same gradients on WebGPU and the CPU', async () => {
    if (!gpu) return expect(process.env.TESSERA_TEST_BACKENDS).not.toContain('webgpu');
    const grads = async (dev: Device) => {
      const lm = new DecoderLM({ ...small, ffn: 'gelu', norm: 'layer' }, dev);
      const ids = T.tensor(
        Int32Array.from({ length: 2 * 10 }, (_, i) => (i * 7) % 50),
        { device: dev, shape: [2, 10] },
      );
      const targets = T.tensor(
        Int32Array.from({ length: 2 * 10 }, (_, i) => (i * 7 + 3) % 50),
        { device: dev, shape: [2, 10] },
      );
      T.crossEntropy(lm.forward(ids), targets).backward();
      return Promise.all(lm.parameters().map((p) => p.grad!.data()));
    };
    const [g1, g2] = [await grads(gpu), await grads(cpu)];
    for (const [i, g] of g1.entries()) expect(maxRelError(g, g2[i]!)).toBeLessThan(2e-4);
  });

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

  it('the encoder is bidirectional: a later token changes earlier outputs', async () => {
    const enc = new Encoder(small, cpu);
    const a = (await enc
      .forward(T.tensor(Int32Array.from([1, 2, 3, 4]), { device: cpu, shape: [1, 4] }))
      .toArray()) as number[][][];
    const b = (await enc
      .forward(T.tensor(Int32Array.from([1, 2, 3, 9]), { device: cpu, shape: [1, 4] }))
      .toArray()) as number[][][];
    expect(maxRelError(a[0]![0]!, b[0]![0]!)).toBeGreaterThan(1e-4);
    const lm = new DecoderLM(small, cpu);
    const c1 = (await lm
      .forward(T.tensor(Int32Array.from([1, 2, 3, 4]), { device: cpu, shape: [1, 4] }))
      .toArray()) as number[][][];
    const c2 = (await lm
      .forward(T.tensor(Int32Array.from([1, 2, 3, 9]), { device: cpu, shape: [1, 4] }))
      .toArray()) as number[][][];
    expect(c1[0]![0]).toEqual(c2[0]![0]); // causal: position 0 cannot see position 3
  });

  it('names bad configs and inputs', () => {
    expect(() => new DecoderLM({ ...small, kvHeads: 3 }, cpu)).toThrow(
      /kvHeads \(3\) must divide heads \(4\)/,
    );
    expect(() => new DecoderLM({ ...small, layers: 0 }, cpu)).toThrow(
      /layers must be a positive integer, got 0/,
    );
    const lm = new DecoderLM(small, cpu);
    expect(() => lm.forward(T.zeros([1, 4], { device: cpu }))).toThrow(
      /ids must be i32 \[batch, T\], got f32/,
    );
    expect(() => lm.forward(T.zeros([1, 65], { device: cpu, dtype: 'i32' }))).toThrow(
      /65 positions exceed maxSeqLen 64/,
    );
  });
});
