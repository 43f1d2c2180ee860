// CommonJS: Node >= 20.19 loads the ES module through require(esm).
const { createDevice, tensor } = require('@tessera/tensor-webgpu');

(async () => {
  const dev = await createDevice({ backend: 'auto' });
  const y = tensor([1, 2, 3]).mul(2).sum();
  console.log(`sum = ${await y.item()} on ${dev.info.backend}`);
  dev.destroy();
})();
