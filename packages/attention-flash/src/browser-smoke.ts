import { createDevice, randn, slice, sum } from '@tessera/tensor-webgpu';
import { attention, decodeAttention, KVCache } from './index.js';

/**
 * The README example at a smaller size, run by the browser test in headless Chromium and in
 * Node: sliding-window causal GQA attention forward and flash backward, then one decode step
 * over a KV cache.
 */
export default async function browserSmoke(
  backend: 'webgpu' | 'cpu',
): Promise<Record<string, number[]>> {
  const dev = await createDevice({ backend });
  try {
    const q = randn([1, 4, 40, 16], { seed: 1, requiresGrad: true });
    const k = randn([1, 2, 40, 16], { seed: 2, requiresGrad: true });
    const v = randn([1, 2, 40, 16], { seed: 3, requiresGrad: true });
    const out = attention(q, k, v, { causal: true, window: 16 });
    sum(out).backward();
    const cache = new KVCache({ rows: 1, kvHeads: 2, headDim: 16 });
    cache.append(slice(k.detach(), 2, 0, 39), slice(v.detach(), 2, 0, 39));
    cache.append(slice(k.detach(), 2, 39), slice(v.detach(), 2, 39));
    const next = decodeAttention(slice(q.detach(), 2, 39), cache, { causal: true });
    return {
      out: Array.from(await out.data()),
      dQ: Array.from(await q.grad!.data()),
      dK: Array.from(await k.grad!.data()),
      dV: Array.from(await v.grad!.data()),
      decoded: Array.from(await next.data()),
    };
  } finally {
    dev.destroy();
  }
}
