import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { cpu, all, underTest } = await testDevices();
const backends = underTest.length > 0 ? underTest : [cpu];

function rnd(dev: Device, shape: number[], seed: number, scale = 1): Tensor {
  return T.mul(T.randn(shape, { device: dev, seed }), scale);
}

const values = smoothValues;

describe('crossEntropy', () => {
  const targetsOf = (dev: Device) =>
    T.tensor(Int32Array.from([3, 0, 9, -100, 5, 1, 2]), { device: dev });

  it('WebGPU and wasm equal the CPU reference, with ignoreIndex and label smoothing, forward and backward', async () => {
    for (const labelSmoothing of [0, 0.1]) {
      const run = async (dev: Device) => {
        const logits = T.mul(T.randn([7, 10], { device: dev, seed: 4 }), 3);
        logits.requiresGrad = true;
        const loss = T.crossEntropy(logits, targetsOf(dev), { labelSmoothing });
        loss.backward();
        return [await loss.data(), await logits.grad!.data()];
      };
      for (const dev of backends) {
        const [[l1, g1], [l2, g2]] = [await run(dev), await run(cpu)];
        expect(maxRelError(l1!, l2!)).toBeLessThan(1e-5);
        expect(maxRelError(g1!, g2!)).toBeLessThan(1e-5);
      }
    }
  });

  it('equals the composite -mean(logSoftmax[target]) over non-ignored rows', async () => {
    const logits = rnd(cpu, [7, 10], 4, 3);
    const lsm = (await T.logSoftmax(logits).toArray()) as number[][];
    const t = [3, 0, 9, -100, 5, 1, 2];
    const kept = t
      .map((c, r) => (c < 0 ? null : -lsm[r]![c]!))
      .filter((v): v is number => v !== null);
    const want = kept.reduce((a, b) => a + b, 0) / kept.length;
    expect(await T.crossEntropy(logits, targetsOf(cpu)).item()).toBeCloseTo(want, 5);
  });

  it('passes a finite-difference check with label smoothing', async () => {
    const t = T.tensor(Int32Array.from([2, 0, 1]), { device: cpu });
    const f = (x: Tensor) => T.crossEntropy(x, t, { labelSmoothing: 0.2 });
    expect(await gradCheck(cpu, f, [values(12, 5)], [[3, 4]])).toBeLessThan(2e-2);
  });

  it('rejects mismatched shapes and non-i32 targets clearly', () => {
    const logits = T.zeros([3, 4], { device: cpu });
    expect(() => T.crossEntropy(logits, T.zeros([2], { device: cpu, dtype: 'i32' }))).toThrow(
      /targets shape must be the logits shape without its last dimension \(got \[3, 4\] and \[2\]\)/,
    );
    expect(() => T.crossEntropy(logits, T.zeros([3], { device: cpu }))).toThrow(
      /targets must be i32/,
    );
  });
});

describe.each(all)('crossEntropy targets ($info.backend)', (dev) => {
  const logits = T.randn([3, 4], { device: dev, seed: 1 });
  const targets = (values: number[]) => T.tensor(Int32Array.from(values), { device: dev });
  const loss = (values: number[], options?: T.CrossEntropyOptions) => async () =>
    T.crossEntropy(logits, targets(values), options).item();

  it('a target outside [0, classes) raises, as PyTorch does', async () => {
    await expect(loss([0, 4, 1])).rejects.toThrow(
      new RangeError(
        'crossEntropy: target 4 is out of range for 4 classes (expected 0 <= target < 4, or the ignore index)',
      ),
    );
    await expect(loss([-1, 0, 0])).rejects.toThrow('crossEntropy: target -1 is out of range');
  });

  it('a target equal to ignoreIndex is skipped, in range or not', async () => {
    const rows = Array.from(
      await T.crossEntropy(logits, targets([0, 2, 1]), { reduction: 'none' }).data(),
    );
    const sum = (values: number[], options: T.CrossEntropyOptions) =>
      loss(values, { ...options, reduction: 'sum' })();
    expect(await sum([0, 7, 1], { ignoreIndex: 7 })).toBeCloseTo(rows[0]! + rows[2]!, 5);
    expect(await sum([-100, 2, 1], {})).toBeCloseTo(rows[1]! + rows[2]!, 5);
  });

  it('rejects unknown options', () => {
    expect(() => T.crossEntropy(logits, targets([0, 1, 2]), { ignore_index: 1 } as never)).toThrow(
      'crossEntropy: unknown option "ignore_index" (known options: ignoreIndex, labelSmoothing, reduction)',
    );
  });
});
