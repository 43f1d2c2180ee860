import { fusedUpdate } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

// p ← p − lr·(g + x), m ← m + g: two read-only inputs and two state tensors.
const step = fusedUpdate({
  name: 'test_update',
  inputs: ['g', 'x'],
  state: ['p', 'm'],
  scalars: ['lr'],
  wgsl: `  p[i] = p[i] - P.lr * (g[i] + x[i]);
  m[i] = m[i] + g[i];`,
  cpu: (i, { g, x, p, m }, { lr }) => {
    p![i] = p![i]! - lr! * (g![i]! + x![i]!);
    m![i] = m![i]! + g![i]!;
  },
});

describe('fusedUpdate', () => {
  it.each(all)('rewrites the state in place from the inputs ($info.backend)', async (dev) => {
    const n = 300; // not a multiple of the workgroup size
    const values = (s: number) => Array.from({ length: n }, (_, i) => Math.sin(i * s));
    const [g, x, p, m] = [0.3, 0.7, 1.1, 1.9].map((s) => T.tensor(values(s), { device: dev }));
    step([g!, x!], [p!, m!], { lr: 0.5 });
    const [pv, mv] = [await p!.data(), await m!.data()];
    for (let i = 0; i < n; i++) {
      expect(pv[i]).toBeCloseTo(
        Math.sin(i * 1.1) - 0.5 * (Math.sin(i * 0.3) + Math.sin(i * 0.7)),
        5,
      );
      expect(mv[i]).toBeCloseTo(Math.sin(i * 1.9) + Math.sin(i * 0.3), 5);
    }
  });

  it('rejects other dtypes and shapes that differ', () => {
    const f = (shape: number[]) => T.zeros(shape, { device: cpu });
    expect(() => step([f([2]), f([2])], [f([2]), f([3])], { lr: 1 })).toThrow(
      /test_update: tensors of shapes \[3\] and \[2\] differ/,
    );
    expect(() =>
      step([f([2]), f([2])], [f([2]), T.zeros([2], { device: cpu, dtype: 'f16' })], { lr: 1 }),
    ).toThrow(/test_update: fused updates take f32 tensors, got f16/);
  });
});
