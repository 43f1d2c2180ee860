import { Rope, Rope2D } from '@tessera/rope';
import type { Device } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

describe.each(all)('Rope ($info.backend)', (dev) => {
  for (const convention of ['half', 'interleaved'] as const) {
    it(`${convention}: q·k after rotation depends only on m − n`, async () => {
      const rope = new Rope({ dim: 16, maxPositions: 64, convention, device: dev });
      const q = T.randn([1, 1, 1, 16], { device: dev, seed: 1 });
      const k = T.randn([1, 1, 1, 16], { device: dev, seed: 2 });
      const score = async (m: number, n: number) =>
        dot(await rope.apply(q, { offset: m }).data(), await rope.apply(k, { offset: n }).data());
      const base = await score(5, 2);
      for (const [m, n] of [
        [10, 7],
        [3, 0],
        [40, 37],
      ] as const)
        expect(await score(m, n)).toBeCloseTo(base, 4);
      expect(Math.abs((await score(5, 1)) - base)).toBeGreaterThan(1e-3);
    });
  }

  it('reads heads split by a transposed view in place, forward and backward', async () => {
    for (const convention of ['half', 'interleaved'] as const) {
      const rope = new Rope({ dim: 8, maxPositions: 16, convention, device: dev });
      // [B, T, H·D] projected, split to [B, H, T, D] by a view, as attention does; 12 dims of
      // which 8 rotate, so the pass-through part is read strided too.
      const proj = T.randn([2, 5, 3 * 12], { device: dev, seed: 3 }).requiresGrad_();
      const heads = T.transpose(T.reshape(proj, [2, 5, 3, 12]), 1, 2);
      expect(heads.isContiguous).toBe(false);
      const y = rope.apply(heads, { offset: 2 });
      const want = rope.apply(T.contiguous(heads.detach()), { offset: 2 });
      expect(maxRelError(await y.data(), await want.data())).toBeLessThan(1e-6);
      const w = T.randn(y.shape, { device: dev, seed: 4 });
      T.sum(T.mul(y, w)).backward();
      // The same gradient as through an explicit copy, and the adjoint of the rotation:
      // <R x, w> = <x, Rᵀ w>.
      const proj2 = proj.detach().requiresGrad_();
      const viaCopy = rope.apply(T.contiguous(T.transpose(T.reshape(proj2, [2, 5, 3, 12]), 1, 2)), {
        offset: 2,
      });
      T.sum(T.mul(viaCopy, w)).backward();
      const g = await proj.grad!.data();
      expect(maxRelError(g, await proj2.grad!.data())).toBeLessThan(1e-6);
      expect(dot(await proj2.detach().data(), g)).toBeCloseTo(
        dot(await y.data(), await w.data()),
        3,
      );
    }
  });

  it('matches hand-computed rotations for both conventions', async () => {
    const x = T.tensor([[1, 2, 3, 4]], { device: dev }); // [seq 1, dim 4] at position 1
    const [c1, s1, c2, s2] = [Math.cos(1), Math.sin(1), Math.cos(0.01), Math.sin(0.01)];
    const half = await new Rope({ dim: 4, maxPositions: 4, convention: 'half', device: dev })
      .apply(x, { offset: 1 })
      .data();
    expect(
      maxRelError(half, [1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 3 * c1 + 1 * s1, 4 * c2 + 2 * s2]),
    ).toBeLessThan(1e-6);
    const inter = await new Rope({
      dim: 4,
      maxPositions: 4,
      convention: 'interleaved',
      device: dev,
    })
      .apply(x, { offset: 1 })
      .data();
    expect(
      maxRelError(inter, [1 * c1 - 2 * s1, 2 * c1 + 1 * s1, 3 * c2 - 4 * s2, 4 * c2 + 3 * s2]),
    ).toBeLessThan(1e-6);
  });

  it('an offset equals slicing the full sequence (KV-cache decoding), with partial rotary dims', async () => {
    const rope = new Rope({ dim: 8, maxPositions: 32, device: dev });
    const x = T.randn([2, 3, 10, 12], { device: dev, seed: 3 });
    const full = rope.apply(x);
    const tail = rope.apply(T.contiguous(T.slice(x, 2, 7)), { offset: 7 });
    expect(
      maxRelError(await tail.data(), await T.contiguous(T.slice(full, 2, 7)).data()),
    ).toBeLessThan(1e-6);
    // Dims past `dim` pass through unchanged.
    expect(Array.from(await T.contiguous(T.slice(full, -1, 8)).data())).toEqual(
      Array.from(await T.contiguous(T.slice(x, -1, 8)).data()),
    );
  });

  it('agrees with the CPU reference, with the sequence on another axis', async () => {
    const make = (d: Device) =>
      new Rope({
        dim: 6,
        maxPositions: 20,
        convention: 'interleaved',
        theta: 500,
        device: d,
      }).apply(T.randn([2, 9, 3, 6], { device: d, seed: 5 }), { seqAxis: 1, offset: 4 });
    expect(maxRelError(await make(dev).data(), await make(cpu).data())).toBeLessThan(1e-6);
  });
});

describe('Rope gradients, 2-D, errors', () => {
  it('gradient of the rotation matches finite differences', async () => {
    const rope = new Rope({ dim: 4, maxPositions: 8, device: cpu });
    const values = Array.from({ length: 12 }, (_, i) => Math.sin(i));
    expect(
      await gradCheck(cpu, (x) => rope.apply(x, { offset: 2 }), [values], [[3, 4]]),
    ).toBeLessThan(2e-2);
  });

  it.each(all)(
    '2-D RoPE rotates the first half by row and the second by column ($info.backend)',
    async (dev) => {
      const rope2d = new Rope2D({ dim: 8, rows: 3, cols: 4, device: dev });
      const x = T.randn([1, 12, 8], { device: dev, seed: 7 });
      const y = await rope2d.apply(x).data();
      const axis = new Rope({ dim: 4, maxPositions: 4, device: dev });
      const xs = (await x.toArray()) as number[][][];
      for (const patch of [0, 5, 11]) {
        const [r, c] = [Math.floor(patch / 4), patch % 4];
        const first = await axis
          .apply(T.tensor([xs[0]![patch]!.slice(0, 4)], { device: dev }), { offset: r })
          .data();
        const second = await axis
          .apply(T.tensor([xs[0]![patch]!.slice(4)], { device: dev }), { offset: c })
          .data();
        expect(maxRelError(y.slice(patch * 8, patch * 8 + 8), [...first, ...second])).toBeLessThan(
          1e-6,
        );
      }
    },
  );

  it('2-D RoPE frees its tables and positions on dispose', () => {
    const before = cpu.memory().liveBytes;
    const rope2d = new Rope2D({ dim: 8, rows: 3, cols: 4, device: cpu });
    expect(cpu.memory().liveBytes).toBeGreaterThan(before);
    rope2d.dispose();
    expect(cpu.memory().liveBytes).toBe(before);
  });

  it('names bad options and positions', () => {
    expect(() => new Rope({ dim: 5, maxPositions: 4, device: cpu })).toThrow(
      /dim must be an even integer >= 2, got 5/,
    );
    expect(
      () => new Rope({ dim: 4, maxPositions: 4, convention: 'rotate' as never, device: cpu }),
    ).toThrow(/convention must be 'half' or 'interleaved'/);
    const rope = new Rope({ dim: 4, maxPositions: 4, device: cpu });
    expect(() => rope.apply(T.zeros([3, 4], { device: cpu }), { offset: 2 })).toThrow(
      /positions 2\.\.4 exceed maxPositions 4/,
    );
    expect(() => rope.apply(T.zeros([3, 4], { device: cpu }), { offest: 2 } as never)).toThrow(
      /rope\.apply: unknown option "offest" \(known options: offset, positions, seqAxis\)/,
    );
    const perRow = T.tensor(Int32Array.from([0, 1, 2, 0, 1, 2]), { device: cpu, shape: [2, 3] });
    expect(() => rope.apply(T.zeros([3, 2, 3, 4], { device: cpu }), { positions: perRow })).toThrow(
      /positions must be \[3\] or \[3, 3\].*got \[2, 3\]/,
    );
    expect(() =>
      rope.apply(T.zeros([2, 3, 4], { device: cpu }), { positions: perRow, seqAxis: 0 }),
    ).toThrow(/positions must be \[2\] or \[2, 2\]/);
  });
});

describe.each(all)('per-row positions ($info.backend)', (dev) => {
  // Rows of a batch at different lengths: each row's positions are its own.
  const rows = [
    [5, 6, 7],
    [0, 1, 2],
    [12, 13, 14],
  ];
  const positions = (d: Device) =>
    T.tensor(Int32Array.from(rows.flat()), { device: d, shape: [3, 3] });

  it('each row of [batch, seq] positions equals rotating that row alone at its offset', async () => {
    for (const convention of ['half', 'interleaved'] as const) {
      const rope = new Rope({ dim: 8, maxPositions: 16, convention, device: dev });
      const x = T.randn([3, 2, 3, 10], { device: dev, seed: 11 }); // [batch, heads, seq, dim]
      const y = await rope.apply(x, { positions: positions(dev) }).data();
      const per = 2 * 3 * 10;
      for (const [b, row] of rows.entries()) {
        const alone = await rope
          .apply(T.contiguous(T.slice(x, 0, b, b + 1)), { offset: row[0]! })
          .data();
        expect(maxRelError(y.slice(b * per, (b + 1) * per), alone)).toBeLessThan(1e-6);
      }
    }
  });

  it('agrees with the CPU reference forward and backward, with heads split by a view', async () => {
    const run = async (d: Device) => {
      const rope = new Rope({ dim: 8, maxPositions: 16, device: d });
      const proj = T.randn([3, 3, 2 * 8], { device: d, seed: 12 }).requiresGrad_();
      const heads = T.transpose(T.reshape(proj, [3, 3, 2, 8]), 1, 2); // [B, H, T, D], strided
      const y = rope.apply(heads, { positions: positions(d) });
      T.sum(T.mul(y, T.randn(y.shape, { device: d, seed: 13 }))).backward();
      return { y: await y.data(), g: await proj.grad!.data() };
    };
    const [a, b] = [await run(dev), await run(cpu)];
    expect(maxRelError(a.y, b.y)).toBeLessThan(1e-6);
    expect(maxRelError(a.g, b.g)).toBeLessThan(1e-6);
  });
});

describe('per-row positions, gradient', () => {
  it('matches finite differences', async () => {
    const rope = new Rope({ dim: 4, maxPositions: 8, device: cpu });
    const positions = T.tensor(Int32Array.from([3, 4, 0, 1]), { device: cpu, shape: [2, 2] });
    const values = Array.from({ length: 16 }, (_, i) => Math.cos(i * 0.7));
    expect(
      await gradCheck(cpu, (x) => rope.apply(x, { positions }), [values], [[2, 2, 4]]),
    ).toBeLessThan(2e-2);
  });
});
