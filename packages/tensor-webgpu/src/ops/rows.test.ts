import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { backends, cpu, rnd } from '../test-utils/agree.js';

describe('row-kernel plans', () => {
  // Rows map to threads three ways (RowPlan): a thread per row (CPU WebGPU, many rows), a
  // workgroup per row with subgroup reductions, or with the workgroup-memory tree fallback.
  // Each is forced here and compared with the CPU reference.
  const kernels: [string, (dev: Device, rows: number) => Tensor][] = [
    ['softmax', (dev, r) => T.softmax(rnd(dev, [r, 300], 1, 3))],
    ['logSoftmax', (dev, r) => T.logSoftmax(rnd(dev, [r, 300], 1, 3))],
    [
      'crossEntropy',
      (dev, r) =>
        T.crossEntropy(rnd(dev, [r, 300], 1, 3), T.randint(0, 300, [r], { device: dev, seed: 2 }), {
          reduction: 'none',
        }),
    ],
    [
      'layerNorm',
      (dev, r) =>
        T.layerNorm(
          rnd(dev, [r, 300], 1, 3),
          T.ones([300], { device: dev }),
          T.zeros([300], { device: dev }),
        ),
    ],
    ['sum', (dev, r) => T.sum(rnd(dev, [r, 300], 1, 3), 1)],
    ['max', (dev, r) => T.max(rnd(dev, [r, 300], 1, 3), 1)],
    ['topk', (dev, r) => T.topk(rnd(dev, [r, 300], 1, 3), 5).values],
  ];
  for (const [name, f] of kernels) {
    it(`${name}: thread-per-row, subgroup and tree plans agree with the CPU`, async () => {
      for (const dev of backends) {
        const subgroups = dev.info.subgroups;
        try {
          for (const sg of [true, false]) {
            dev.info.subgroups = sg && subgroups;
            for (const rows of [3, 70]) {
              const [got, want] = [await f(dev, rows).data(), await f(cpu, rows).data()];
              expect(maxRelError(got, want)).toBeLessThan(1e-4);
            }
          }
        } finally {
          dev.info.subgroups = subgroups;
        }
      }
    });
  }
});
