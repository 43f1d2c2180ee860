import { createDevice, formatProfile, matmul, randn, relu } from '@tessera/tensor-webgpu';

const dev = await createDevice();
const x = randn([512, 256], { seed: 1 });
const w = randn([256, 256], { seed: 2, requiresGrad: true });

// Where the device's time goes in a forward and backward pass, kernel by kernel.
const profile = await dev.profile(async () => {
  const loss = relu(matmul(x, w)).square().mean();
  loss.backward();
  await loss.item();
});
console.log(formatProfile(profile, 5));
dev.destroy();
