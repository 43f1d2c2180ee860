import { createDevice, randn } from '@tessera/tensor-webgpu';
import { Rope } from './index.js';

/**
 * The README example, run by the browser test in headless Chromium and in Node: Llama-3.1
 * scaled RoPE applied to a prompt and to one decoding position, in both pairing conventions.
 */
export default async function browserSmoke(
  backend: 'webgpu' | 'cpu',
): Promise<Record<string, number[]>> {
  const dev = await createDevice({ backend });
  try {
    const result: Record<string, number[]> = {};
    for (const convention of ['half', 'interleaved'] as const) {
      const rope = new Rope({
        dim: 64,
        theta: 500_000,
        maxPositions: 1024,
        convention,
        scaling: { type: 'llama3', factor: 8, originalMaxPositions: 8192 },
      });
      result[`${convention}Prompt`] = Array.from(
        await rope.apply(randn([1, 8, 16, 64], { seed: 1 })).data(),
      );
      result[`${convention}Next`] = Array.from(
        await rope.apply(randn([1, 8, 1, 64], { seed: 2 }), { offset: 16 }).data(),
      );
    }
    return result;
  } finally {
    dev.destroy();
  }
}
