import { applyLoRA, LayerNorm, Linear, Sequential } from '@tessera/nn';
import { createDevice, mean, randn, square } from '@tessera/tensor-webgpu';

const dev = await createDevice();
const model = new Sequential(
  new Linear(16, 32, { seed: 1 }),
  new LayerNorm(32),
  new Linear(32, 4, { seed: 2 }),
);
console.log(
  `${model.numParameters()} parameters:`,
  model
    .namedParameters()
    .map(([name]) => name)
    .join(', '),
);

const x = randn([8, 16], { seed: 3 });
const loss = mean(square(model.forward(x)));
loss.backward();
console.log('loss', await loss.item(), 'grad of 0.weight', model.layers[0].weight.grad.shape);

const checkpoint = await model.save(); // safetensors bytes
applyLoRA(model, { rank: 4, target: (name) => name === '2' }); // only the adapter of layer 2 trains
console.log(
  'trainable after LoRA:',
  model.numParameters({ trainableOnly: true }),
  'checkpoint bytes:',
  checkpoint.length,
);
dev.destroy();
