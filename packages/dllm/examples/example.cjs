// CommonJS: Node >= 20.19 loads the ES modules through require(esm).
const { infill, MaskedDiffusionLM, transferCounts } = require('@tessera/dllm');
const { createDevice } = require('@tessera/tensor-webgpu');

(async () => {
  const dev = await createDevice();
  const config = { vocabSize: 32, dModel: 32, layers: 1, heads: 2, maxSeqLen: 16, seed: 1 };
  const model = new MaskedDiffusionLM(config, { maskId: 31 });
  // Fill 6 tokens between a prefix and a suffix in 3 steps (2 per step, LLaDA's linear schedule).
  const { tokens } = await infill(model, [1, 2, 3], [7, 8], { length: 6, steps: 3 });
  console.log(
    `gap ${tokens.join(' ')} (${transferCounts(6, 3).join('+')} per step) on ${dev.info.backend}`,
  );
  dev.destroy();
})();
