import { groupedMatmul } from '@tessera/moe';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

/** The oracle: one ordinary matmul per expert over its rows, zeros past the last. */
async function perExpert(
  x: T.Tensor,
  w: T.Tensor,
  offsets: number[],
  transposed: boolean,
): Promise<number[]> {
  const out = transposed ? w.shape[1]! : w.shape[2]!;
  const result = new Array<number>(x.shape[0]! * out).fill(0);
  for (let e = 0; e + 1 < offsets.length; e++) {
    const [s, t] = [offsets[e]!, offsets[e + 1]!];
    if (t === s) continue;
    const we = T.reshape(T.narrow(w, 0, e, 1), w.shape.slice(1));
    const y = T.matmul(T.narrow(x, 0, s, t - s), transposed ? T.transpose(we) : we);
    result.splice(s * out, (t - s) * out, ...(await y.data()));
  }
  return result;
}

function offsetsTensor(dev: T.Device, offsets: number[]): T.Tensor {
  return T.tensor(Int32Array.from(offsets), { device: dev });
}

describe.each(all)('groupedMatmul ($info.backend)', (dev) => {
  it('equals a loop of matmuls: odd sizes, a long segment, an empty expert, unused rows', async () => {
    // 150 rows of which 141 used; expert 1 spans two row tiles, expert 3 has none; 67 output
    // columns span two column tiles.
    const offsets = [0, 7, 107, 120, 120, 141];
    const [rows, inner, out] = [150, 19, 67];
    for (const transposed of [true, false]) {
      const x = T.tensor(smoothValues(rows * inner, 1), { shape: [rows, inner], device: dev });
      const wShape = transposed ? [5, out, inner] : [5, inner, out];
      const w = T.tensor(smoothValues(5 * inner * out, 2), { shape: wShape, device: dev });
      // Leave NaN in pooled memory, so an unwritten output element would show.
      T.full([rows, out], Number.NaN, { device: dev }).dispose();
      const y = groupedMatmul(x, w, offsetsTensor(dev, offsets), { transposed });
      expect(y.shape).toEqual([rows, out]);
      const got = await y.data();
      expect(maxRelError(got, await perExpert(x, w, offsets, transposed))).toBeLessThan(1e-5);
      expect(Array.from(got.subarray(141 * out)).every((v) => v === 0)).toBe(true);
    }
  });

  it('gradients of x and the stacked weights match finite differences', async () => {
    const offsets = offsetsTensor(dev, [0, 4, 4, 7]);
    for (const transposed of [true, false]) {
      const err = await gradCheck(
        dev,
        (x, w) => groupedMatmul(x, w, offsets, { transposed }),
        [smoothValues(9 * 3, 3), smoothValues(3 * 3 * 4, 4)],
        [[9, 3], transposed ? [3, 4, 3] : [3, 3, 4]],
      );
      expect(err).toBeLessThan(1e-2);
    }
  });

  it('equals the CPU reference, forward and backward', async () => {
    if (dev === cpu) return;
    const offsets = [0, 30, 31, 31, 95];
    const run = async (d: T.Device) => {
      const x = T.tensor(smoothValues(100 * 24, 5), { shape: [100, 24], device: d });
      const w = T.tensor(smoothValues(4 * 40 * 24, 6), { shape: [4, 40, 24], device: d });
      x.requiresGrad_();
      w.requiresGrad_();
      const y = groupedMatmul(x, w, offsetsTensor(d, offsets));
      T.sum(T.square(y)).backward();
      return [await y.data(), await x.grad!.data(), await w.grad!.data()];
    };
    const [gpu, ref] = [await run(dev), await run(cpu)];
    for (let i = 0; i < 3; i++) expect(maxRelError(gpu[i]!, ref[i]!)).toBeLessThan(1e-5);
  });

  it('refuses offsets and widths that do not fit', () => {
    const x = T.zeros([4, 3], { device: dev });
    const w = T.zeros([2, 5, 3], { device: dev });
    expect(() => groupedMatmul(x, w, offsetsTensor(dev, [0, 4]))).toThrow(
      'groupedMatmul: offsets must be i32 [3] (experts + 1), got i32 [2]',
    );
    expect(() => groupedMatmul(x, w, offsetsTensor(dev, [0, 2, 4]), { transposed: false })).toThrow(
      "groupedMatmul: x [4, 3] has 3 columns, each expert's matrix takes 5 (weight [2, 5, 3])",
    );
    expect(() =>
      groupedMatmul(x, w, offsetsTensor(dev, [0, 2, 4]), { transpose: true } as never),
    ).toThrow('groupedMatmul: unknown option "transpose"');
  });
});
