import { createDevice, embedding, tensor } from '@tessera/tensor-webgpu';
import { generate, generateBatch, processLogits, processorChain } from './index.js';

/**
 * The README example, run by the browser test in headless Chromium and in Node: top-k/top-p
 * processing of a row of logits, seeded sampling from a toy bigram model, and batched decoding.
 */
export default async function browserSmoke(
  backend: 'webgpu' | 'cpu',
): Promise<Record<string, number[]>> {
  const dev = await createDevice({ backend });
  try {
    const logits = Float32Array.from([2.0, 1.0, 0.5, -1.0]);
    const processed = processLogits(
      logits,
      { ids: [], step: 0 },
      processorChain({ topK: 2, topP: 0.9 }),
    );
    const table = tensor([
      [0, 3, 1, 0],
      [0, 0, 3, 1],
      [0, 0, 0, 3],
      [3, 0, 0, 0],
    ]);
    const model = {
      vocabSize: 4,
      device: dev,
      forward: (ids: typeof table) => embedding(table, ids),
    };
    const sampled: number[] = [];
    for await (const id of generate(model, [0], {
      temperature: 0.7,
      topP: 0.9,
      maxNewTokens: 8,
      seed: 1,
    }))
      sampled.push(id);
    const batch = await generateBatch(
      model,
      [[0], [2, 3]],
      [{ seed: 1 }, { seed: 2 }].map((o) => ({ ...o, maxNewTokens: 4 })),
    );
    return {
      processed: Array.from(processed, (v) => (Number.isFinite(v) ? v : -1e30)),
      sampled,
      batch: batch.flat(),
    };
  } finally {
    dev.destroy();
  }
}
