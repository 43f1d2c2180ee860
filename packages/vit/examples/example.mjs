import { createDevice, crossEntropy, randn, tensor } from '@tessera/tensor-webgpu';
import { ViT } from '@tessera/vit';

const dev = await createDevice();
// MNIST-sized: 28×28 grey images in 7×7 patches → 16 patch tokens after the class token.
const vit = new ViT({
  imageSize: 28,
  patchSize: 7,
  channels: 1,
  classes: 10,
  dModel: 64,
  layers: 4,
  heads: 4,
  positions: 'rope2d', // or 'learned'
  dropPath: 0.1,
});

const images = randn([8, 1, 28, 28], { seed: 1 }); // [batch, channels, height, width]
const labels = tensor(Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7]));
const loss = crossEntropy(vit.forward(images), labels); // logits [8, 10]
loss.backward();

vit.eval();
const where = vit.relevance(images); // [8, 4, 4]: attention rollout from the class token
console.log(
  `${vit.numParameters()} parameters, loss ${(await loss.item()).toFixed(3)}, rollout ${where.shape}`,
);
dev.destroy();
