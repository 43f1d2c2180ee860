// CommonJS: Node >= 20.19 loads the ES modules through require(esm).
const { loadBalancingLoss } = require('@tessera/moe');
const { createDevice, tensor } = require('@tessera/tensor-webgpu');

(async () => {
  const dev = await createDevice();
  // 4 tokens, 2 experts, top-1: everything went to expert 0, which the router also favours.
  const probs = tensor([
    [0.9, 0.1],
    [0.8, 0.2],
    [0.7, 0.3],
    [0.6, 0.4],
  ]);
  const counts = tensor([4, 0]);
  const loss = await loadBalancingLoss(probs, counts, 1).item();
  console.log(`load-balancing loss ${loss.toFixed(3)} (1 when balanced) on ${dev.info.backend}`);
  dev.destroy();
})();
