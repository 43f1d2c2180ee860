import { createDevice, mean, randn, square } from '@tessera/tensor-webgpu';
import { applyLoRA, LayerNorm, Linear, Sequential } from './index.js';

/**
 * The README example, run by the browser test in headless Chromium and in Node: a small MLP's
 * output, loss and gradient, its safetensors checkpoint size and its trainable count after LoRA.
 */
export default async function browserSmoke(
  backend: 'webgpu' | 'cpu',
): Promise<Record<string, number[]>> {
  const dev = await createDevice({ backend });
  try {
    const model = new Sequential(
      new Linear(16, 32, { seed: 1 }),
      new LayerNorm(32),
      new Linear(32, 4, { seed: 2 }),
    );
    const y = model.forward(randn([8, 16], { seed: 3 }));
    const loss = mean(square(y));
    loss.backward();
    const output = Array.from(await y.data());
    const grad = Array.from(await model.layers[0]!.parameters()[0]!.grad!.data());
    const checkpoint = await model.save();
    applyLoRA(model, { rank: 4, target: (name) => name === '2' });
    return {
      output,
      loss: [await loss.item()],
      firstWeightGrad: grad,
      checkpointBytes: [checkpoint.length],
      trainableAfterLoRA: [model.numParameters({ trainableOnly: true })],
    };
  } finally {
    dev.destroy();
  }
}
