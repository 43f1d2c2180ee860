import { createDevice, crossEntropy, tensor } from '@tessera/tensor-webgpu';
import { DecoderLM } from './index.js';

const bytes = (text: string) => Int32Array.from(new TextEncoder().encode(text));

/**
 * The README example, run by the browser test in headless Chromium and in Node: a small GQA
 * decoder LM's logits on a byte sequence, its next-byte loss and the gradient of its embedding.
 */
export default async function browserSmoke(
  backend: 'webgpu' | 'cpu',
): Promise<Record<string, number[]>> {
  const dev = await createDevice({ backend });
  try {
    const lm = new DecoderLM({
      vocabSize: 256,
      dModel: 64,
      layers: 2,
      heads: 4,
      kvHeads: 2,
      maxSeqLen: 128,
      seed: 1,
    });
    const logits = lm.forward(tensor(bytes('hello, world'), { shape: [1, 12] }));
    const loss = crossEntropy(
      logits.reshape([-1, 256]).contiguous(),
      tensor(bytes('ello, world!'), { shape: [12] }),
    );
    loss.backward();
    const embedding = lm.parameters()[0]!;
    return {
      parameters: [lm.numParameters()],
      logits: Array.from(await logits.data()),
      loss: [await loss.item()],
      embeddingGrad: Array.from(await embedding.grad!.data()),
    };
  } finally {
    dev.destroy();
  }
}
