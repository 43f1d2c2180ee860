import { generate, MaskedDiffusionLM, maskedDiffusionLoss, maskTokens } from '@tessera/dllm';
import { AdamW } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM, Encoder, type TransformerConfig } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';

const { all, cpu, underTest } = await testDevices();

const config: TransformerConfig = {
  vocabSize: 40,
  dModel: 32,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  maxSeqLen: 16,
  tiedEmbeddings: true,
  seed: 3,
};
const MASK = 39;
const ids = (rows: number[][], device: T.Device) =>
  T.tensor(Int32Array.from(rows.flat()), { shape: [rows.length, rows[0]!.length], device });

describe.each(all)('MaskedDiffusionLM ($info.backend)', (device) => {
  it("is the bidirectional trunk with the decoder's parameters and a tied head", async () => {
    const model = new MaskedDiffusionLM(config, { maskId: MASK }, device);
    const decoder = new DecoderLM(config, device);
    const decoderState = decoder.stateDict();
    for (const [name, t] of Object.entries(model.stateDict())) {
      expect(t.shape).toEqual(decoderState[name]!.shape);
      expect(maxRelError(await t.data(), await decoderState[name]!.data())).toBe(0);
    }
    const encoder = new Encoder(config, device);
    encoder.loadStateDict(model.stateDict());
    const x = ids([[1, 2, 3, MASK, 5, 6]], device);
    const expected = encoder.model.embed_tokens!.attend(encoder.forward(x));
    expect(maxRelError(await model.forward(x).data(), await expected.data())).toBeLessThan(1e-6);
    for (const m of [model, decoder, encoder]) m.dispose();
  });

  it('sees both sides: a later token changes the logits of an earlier position', async () => {
    const model = new MaskedDiffusionLM(config, { maskId: MASK }, device);
    const a = await model.forward(ids([[1, MASK, 3, 4]], device)).data();
    const b = await model.forward(ids([[1, MASK, 3, 9]], device)).data();
    const v = config.vocabSize;
    expect(maxRelError(a.slice(v, 2 * v), b.slice(v, 2 * v))).toBeGreaterThan(1e-4);
    model.dispose();
  });
});

describe('MaskedDiffusionLM', () => {
  it(`learns from the masked diffusion loss to fill masks from their context (${all[0]!.info.backend})`, async () => {
    // Each row repeats one digit: any unmasked token gives the masked ones away (a row with
    // every token masked keeps a loss of ln 10 per token, so the mean cannot reach 0).
    const device = all[0]!;
    const small = { ...config, vocabSize: 12, maxSeqLen: 12, initStd: 0.1 };
    const model = new MaskedDiffusionLM(small, { maskId: 11 }, device);
    const optimizer = new AdamW(model.parameters(), { lr: 1e-2 });
    const losses: number[] = [];
    for (let step = 0; step < 80; step++) {
      const digits = Array.from({ length: 16 }, (_, b) => (b * 7 + step * 3) % 10);
      const clean = ids(
        digits.map((d) => new Array<number>(12).fill(d)),
        device,
      );
      const loss = T.tidy(() => {
        optimizer.zeroGrad();
        const noised = maskTokens(clean, { maskId: 11, seed: 100 + step });
        const l = maskedDiffusionLoss(model.forward(noised.input), clean, noised.masked, noised.t);
        l.backward();
        optimizer.step();
        return l;
      });
      losses.push(await loss.item());
      loss.dispose();
      clean.dispose();
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-10))).toBeLessThan(0.3 * mean(losses.slice(0, 10)));
    model.eval();
    for (const digit of [3, 8]) {
      const r = await generate(model, [digit], { length: 8, steps: 4, temperature: 0 });
      expect(r.tokens).toEqual(new Array<number>(8).fill(digit));
    }
    optimizer.dispose();
    model.dispose();
  });

  it.each(underTest)("gives the CPU reference's gradients ($info.backend)", async (dev) => {
    const grads = async (device: T.Device) => {
      const model = new MaskedDiffusionLM(
        { ...config, tiedEmbeddings: false },
        { maskId: MASK },
        device,
      );
      const x = ids(
        [
          [1, MASK, 3, MASK, 5],
          [MASK, 7, MASK, 9, 2],
        ],
        device,
      );
      const y = ids(
        [
          [1, 2, 3, 4, 5],
          [6, 7, 8, 9, 2],
        ],
        device,
      );
      const masked = T.tensor(
        [
          [0, 1, 0, 1, 0],
          [1, 0, 1, 0, 0],
        ],
        { device },
      );
      maskedDiffusionLoss(model.forward(x), y, masked, T.tensor([0.4, 0.4], { device })).backward();
      return Promise.all(model.parameters().map((p) => p.grad!.data()));
    };
    const [g1, g2] = [await grads(dev), await grads(cpu)];
    expect(g1.length).toBe(g2.length);
    for (const [i, g] of g1.entries()) expect(maxRelError(g, g2[i]!)).toBeLessThan(2e-4);
  });

  it('names a bad mask id and unknown options; dispose frees every tensor', () => {
    expect(() => new MaskedDiffusionLM(config, { maskId: 40 }, cpu)).toThrow(
      'MaskedDiffusionLM: maskId must be an integer in [0, 40) (vocabSize), got 40',
    );
    expect(() => new MaskedDiffusionLM(config, { maskId: 1, mask: 1 } as never, cpu)).toThrow(
      /MaskedDiffusionLM: unknown option "mask"/,
    );
    const before = cpu.memory().liveTensors;
    const model = new MaskedDiffusionLM(config, { maskId: MASK }, cpu);
    expect(model.maxSequenceLength).toBe(16);
    expect(model.vocabSize).toBe(40);
    model.dispose();
    expect(cpu.memory().liveTensors).toBe(before);
  });
});
