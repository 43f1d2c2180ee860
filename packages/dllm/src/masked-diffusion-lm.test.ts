import { MaskedDiffusionLM, maskedDiffusionLoss } from '@tessera/dllm';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM, Encoder, type TransformerConfig } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';

const { all, cpu, gpu } = await testDevices();

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
  it('gives the same gradients on WebGPU and the CPU', async () => {
    if (!gpu) return expect(process.env.TESSERA_TEST_BACKENDS).toBe('cpu');
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
    const [g1, g2] = [await grads(gpu), await grads(cpu)];
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
