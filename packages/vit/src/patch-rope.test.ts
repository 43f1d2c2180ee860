import { Rope2D } from '@tessera/rope';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { PatchRope } from '@tessera/vit';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

describe.each(all)('PatchRope ($info.backend)', (dev) => {
  it('leaves the class token and turns the patches as Rope2D over the grid', async () => {
    const rope = new PatchRope({ dim: 8, rows: 2, cols: 3, device: dev });
    const x = T.randn([2, 2, 7, 8], { device: dev, seed: 1 }); // [B, heads, 1 + 2·3, dim]
    const y = rope.apply(x);
    expect(y.shape).toEqual([2, 2, 7, 8]);
    const cls = await T.contiguous(T.slice(y, 2, 0, 1)).data();
    expect(maxRelError(cls, await T.contiguous(T.slice(x, 2, 0, 1)).data())).toBe(0);
    const grid = new Rope2D({ dim: 8, rows: 2, cols: 3, theta: 100, device: dev });
    const want = await grid.apply(T.contiguous(T.slice(x, 2, 1))).data();
    expect(maxRelError(await T.contiguous(T.slice(y, 2, 1)).data(), want)).toBeLessThan(1e-6);
    rope.dispose();
    grid.dispose();
  });
});

describe('PatchRope errors and memory', () => {
  it('refuses explicit positions and unknown options; frees its tables', () => {
    const before = cpu.memory().liveBytes;
    const rope = new PatchRope({ dim: 8, rows: 2, cols: 2, device: cpu });
    const x = T.zeros([1, 1, 5, 8], { device: cpu });
    const positions = T.tensor(Int32Array.from([0, 1, 2, 3, 4]), { device: cpu });
    expect(() => rope.apply(x, { positions })).toThrow(
      /positions \(a KV cache\) are not supported/,
    );
    const long = T.zeros([1, 1, 6, 8], { device: cpu });
    expect(() => rope.apply(long)).toThrow(
      'PatchRope: sequence of 6 tokens, expected 1 + 2·2 (prefix and patches)',
    );
    long.dispose();
    expect(() => new PatchRope({ dim: 8, rows: 2, cols: 2, base: 10 } as never)).toThrow(
      /PatchRope: unknown option "base"/,
    );
    x.dispose();
    positions.dispose();
    rope.dispose();
    expect(cpu.memory().liveBytes).toBe(before);
  });
});
