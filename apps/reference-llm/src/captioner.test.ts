import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM } from '@tessera/transformer';
import { ViT } from '@tessera/vit';
import { describe, expect, it } from 'vitest';
import { Captioner, captionOf, imageConditioned } from './captioner.js';
import { micro } from './test-utils/fixtures.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;

// A ViT with 4 image tokens (14×14 patches of a 28×28 digit) and a miniature decoder.
const build = () => {
  const vit = new ViT(
    {
      imageSize: 28,
      patchSize: 14,
      channels: 1,
      classes: 10,
      dModel: 16,
      layers: 1,
      heads: 2,
      seed: 2,
    },
    device,
  );
  const lm = new DecoderLM({ ...micro.model, vocabSize: 64 }, device);
  return { vit, captioner: new Captioner(vit, lm) };
};
const images = (b: number) => T.rand([b, 1, 28, 28], { seed: 3, device });

describe('Captioner', () => {
  it('names the digit in words', () => {
    expect(captionOf(7)).toBe('a handwritten seven');
    expect(captionOf(0)).toBe('a handwritten zero');
  });

  it('reads [image tokens] + text: one logit row per image token and per text token', () => {
    const { captioner } = build();
    const ids = T.tensor(Int32Array.from([1, 2, 3, 4, 5, 6]), { shape: [2, 3], device });
    expect(captioner.imageTokens(images(2)).shape).toEqual([2, 4, micro.model.dModel]);
    expect(captioner.forward(images(2), ids).shape).toEqual([2, 4 + 3, 64]);
  });

  it('trains the projector and the decoder, never the ViT', () => {
    const { captioner, vit } = build();
    const ids = T.tensor(Int32Array.from([1, 2, 3, 4, 5, 6]), { shape: [2, 3], device });
    const logits = captioner.forward(images(2), ids);
    T.sum(T.mul(logits, logits)).backward();
    expect(captioner.projector.parameters().every((p) => p.grad)).toBe(true);
    expect(captioner.lm.parameters().every((p) => p.grad)).toBe(true);
    expect(vit.parameters().some((p) => p.grad)).toBe(false);
    expect(captioner.parameters()).toHaveLength(
      captioner.projector.parameters().length + captioner.lm.parameters().length,
    );
  });

  it('as a CausalLM conditioned on one image, gives the text positions of the full forward', async () => {
    const { captioner } = build();
    captioner.eval();
    const image = images(1);
    const ids = T.tensor(Int32Array.from([7, 8, 9, 10]), { shape: [1, 4], device });
    const full = await T.noGrad(() => T.slice(captioner.forward(image, ids), 1, 4)).data();
    const lm = imageConditioned(captioner, image);
    expect(lm.maxSequenceLength).toBe(micro.model.maxSeqLen - 4);
    const text = await T.noGrad(() => lm.forward(ids)).data();
    expect(Array.from(text)).toHaveLength(4 * 64);
    for (let i = 0; i < text.length; i++) expect(text[i]).toBeCloseTo(full[i]!, 4);
    lm.dispose();
  });

  it('dispose frees the projector and the decoder but leaves the ViT to its owner', async () => {
    const { captioner, vit } = build();
    const own = captioner.parameters();
    captioner.dispose();
    expect(own.every((p) => p.isDisposed)).toBe(true);
    expect(vit.parameters().some((p) => p.isDisposed)).toBe(false);
    expect((await vit.forward(images(1)).data()).length).toBe(10);
  });
});
