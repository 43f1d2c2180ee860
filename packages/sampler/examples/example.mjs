import { generate, generateBatch, processLogits, processorChain } from '@tessera/sampler';
import { createDevice, embedding, tensor } from '@tessera/tensor-webgpu';

const dev = await createDevice();

// Processors work on a row of logits: here top-k 2, then top-p 0.9.
const logits = Float32Array.from([2.0, 1.0, 0.5, -1.0]);
console.log(processLogits(logits, { ids: [], step: 0 }, processorChain({ topK: 2, topP: 0.9 })));

// Any model with `vocabSize`, `device` and `forward(ids) → logits` can generate: a toy bigram model.
const table = tensor([
  [0, 3, 1, 0],
  [0, 0, 3, 1],
  [0, 0, 0, 3],
  [3, 0, 0, 0],
]);
const model = { vocabSize: 4, device: dev, forward: (ids) => embedding(table, ids) };

const out = [];
for await (const id of generate(model, [0], {
  temperature: 0.7,
  topP: 0.9,
  maxNewTokens: 8,
  seed: 1,
}))
  out.push(id);
console.log('sampled ids:', out.join(' '));

// Several prompts decoded together, a seed each: each gets the tokens it would get alone.
const batch = await generateBatch(
  model,
  [[0], [2, 3]],
  [{ seed: 1 }, { seed: 2 }].map((o) => ({ ...o, maxNewTokens: 4 })),
);
console.log('batch:', JSON.stringify(batch));
dev.destroy();
