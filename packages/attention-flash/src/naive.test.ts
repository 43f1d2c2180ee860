import { attention, naiveAttention } from '@tessera/attention-flash';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { cpu } = await testDevices();

describe('naiveAttention', () => {
  it('outputs zeros with no keys (Sk = 0), as the flash kernels do, and q gets zero gradients', async () => {
    const q = T.randn([1, 2, 3, 8], { device: cpu, seed: 1, requiresGrad: true });
    const none = T.zeros([1, 2, 0, 8], { device: cpu });
    const out = naiveAttention(q, none, none);
    expect(out.shape).toEqual([1, 2, 3, 8]);
    const zeros = async (t: T.Tensor) => [...(await t.data())].every((x) => x === 0);
    expect(await zeros(out)).toBe(true);
    expect(await zeros(attention(q, none, none))).toBe(true);
    T.sum(out).backward();
    expect(await zeros(q.grad!)).toBe(true);
  });
});
