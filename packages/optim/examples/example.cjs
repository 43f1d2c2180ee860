// CommonJS: Node >= 20.19 loads the ES modules through require(esm).
const { SGD } = require('@tessera/optim');
const { createDevice, sum, square, tensor } = require('@tessera/tensor-webgpu');

(async () => {
  const dev = await createDevice();
  const w = tensor([3, -2], { requiresGrad: true });
  const opt = new SGD([w], { lr: 0.25 });
  sum(square(w)).backward();
  opt.step();
  console.log(`after one SGD step: [${await w.toArray()}]`);
  dev.destroy();
})();
