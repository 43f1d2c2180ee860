// CommonJS: Node >= 20.19 loads the ES modules through require(esm).
const { Linear } = require('@tessera/nn');
const { createDevice, tensor } = require('@tessera/tensor-webgpu');

(async () => {
  const dev = await createDevice();
  const lin = new Linear(3, 1, { seed: 0 });
  const y = lin.forward(tensor([[1, 2, 3]]));
  console.log(`Linear(3, 1) output shape [${y.shape}] on ${dev.info.backend}`);
  dev.destroy();
})();
