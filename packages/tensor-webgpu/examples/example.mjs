import { createDevice, matmul, randn, tensor } from '@tessera/tensor-webgpu';

const dev = await createDevice({ backend: 'auto' }); // WebGPU, else wasm, with a warning
console.log(`running on ${dev.info.adapter}`);

const w = randn([3, 2], { seed: 0, requiresGrad: true });
const x = tensor([
  [1, 2, 3],
  [4, 5, 6],
]);
const loss = matmul(x, w).square().mean();
loss.backward();

console.log('loss', await loss.item());
console.log('dloss/dw', await w.grad.toArray());
dev.destroy();
