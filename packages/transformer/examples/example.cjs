// CommonJS: Node >= 20.19 loads the ES modules through require(esm).
const { createDevice } = require('@tessera/tensor-webgpu');
const { DecoderLM } = require('@tessera/transformer');

(async () => {
  const dev = await createDevice();
  const lm = new DecoderLM({ vocabSize: 100, dModel: 32, layers: 1, heads: 2, maxSeqLen: 16 });
  console.log(`DecoderLM with ${lm.numParameters()} parameters on ${dev.info.backend}`);
  dev.destroy();
})();
