// CommonJS: Node >= 20.19 loads the ES modules through require(esm).
const { PatchEmbedding } = require('@tessera/vit');
const { createDevice, randn } = require('@tessera/tensor-webgpu');

(async () => {
  const dev = await createDevice();
  // A 16×16 RGB image in 4×4 patches: a strided convolution as one matmul → 16 tokens of 32.
  const embed = new PatchEmbedding({ channels: 3, patch: 4, dModel: 32 });
  const tokens = embed.forward(randn([1, 3, 16, 16], { seed: 1 }));
  console.log(`patch tokens [${tokens.shape}] on ${dev.info.backend}`);
  dev.destroy();
})();
