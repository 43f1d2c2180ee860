// CommonJS: Node >= 20.19 loads the ES module through require(esm).
const { processLogits, processorChain } = require('@tessera/sampler');

const out = processLogits(
  Float32Array.from([1, 2, 3]),
  { ids: [2], step: 0 },
  processorChain({ repetitionPenalty: 1.5, topK: 2 }),
);
console.log(`processed logits: ${Array.from(out).join(', ')}`);
