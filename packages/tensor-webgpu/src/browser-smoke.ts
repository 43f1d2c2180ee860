import { createDevice } from './device.js';
import { crossEntropy, gelu, layerNorm, matmul, randn, softmax, tensor } from './index.js';

/**
 * The op set the browser test runs in headless Chromium and in Node (the README example, plus
 * softmax, LayerNorm, GELU and cross-entropy with their gradients), as plain arrays.
 */
export default async function browserSmoke(
  backend: 'webgpu' | 'cpu',
): Promise<Record<string, number[]>> {
  const dev = await createDevice({ backend });
  try {
    const w = randn([3, 2], { seed: 0, requiresGrad: true });
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const loss = matmul(x, w).square().mean();
    loss.backward();
    const a = randn([4, 37], { seed: 1, requiresGrad: true });
    const targets = tensor(Int32Array.from([3, 0, 36, 17]), { shape: [4] });
    const ce = crossEntropy(gelu(layerNorm(a)), targets);
    ce.backward();
    return {
      loss: [await loss.item()],
      wGrad: Array.from(await w.grad!.data()),
      softmax: Array.from(await softmax(a).data()),
      crossEntropy: [await ce.item()],
      aGrad: Array.from(await a.grad!.data()),
    };
  } finally {
    dev.destroy();
  }
}
