import { MoE } from '@tessera/moe';
import { add, createDevice, mean, randn, square } from '@tessera/tensor-webgpu';

const dev = await createDevice();
// 8 SwiGLU experts, 2 per token (Mixtral), one shared expert (DeepSeekMoE), capacity factor 1.25.
const moe = new MoE({
  dim: 64,
  hidden: 96,
  experts: 8,
  topK: 2,
  sharedExperts: 1,
  capacityFactor: 1.25,
  seed: 1,
});

const x = randn([4, 32, 64], { seed: 2 }); // [batch, seq, dim]
const y = moe.forward(x); // [4, 32, 64]: route, dispatch, grouped matmuls, combine — on the device
const loss = add(mean(square(y)), moe.auxLoss()); // + 0.01 · load balance + 0.001 · z-loss
loss.backward();

const stats = await moe.readRoutingStats(); // one read-back, whenever you log
console.log(
  `y ${y.shape}; tokens per expert ${stats.tokensPerExpert.join(' ')}; dropped ${(100 * stats.droppedShare).toFixed(1)}%; max load ${stats.maxLoad.toFixed(2)}× the mean`,
);
dev.destroy();
