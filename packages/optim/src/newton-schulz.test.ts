import { newtonSchulz } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx } from './test-utils/fixtures.js';

const { all, cpu } = await testDevices();

/** Eigenvalues of a small symmetric matrix (cyclic Jacobi), to get singular values as √eig(XXᵀ). */
function symmetricEigenvalues(a: number[][]): number[] {
  const n = a.length;
  const m = a.map((r) => [...r]);
  for (let sweep = 0; sweep < 50; sweep++) {
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(m[p]![q]!) < 1e-12) continue;
        const theta = (m[q]![q]! - m[p]![p]!) / (2 * m[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k]![p]!;
          const mkq = m[k]![q]!;
          m[k]![p] = c * mkp - s * mkq;
          m[k]![q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p]![k]!;
          const mqk = m[q]![k]!;
          m[p]![k] = c * mpk - s * mqk;
          m[q]![k] = s * mpk + c * mqk;
        }
      }
    }
  }
  return m.map((r, i) => r[i]!);
}

describe('Newton–Schulz', () => {
  it.each(all)(
    'matches the Python reference and lands in the singular-value band ($info.backend)',
    async (dev) => {
      const g = T.tensor(fx.newton_schulz.g, { device: dev, shape: [6, 4] });
      const x = newtonSchulz(g);
      expect(x.shape).toEqual([6, 4]);
      expect(maxRelError(await x.data(), fx.newton_schulz.x)).toBeLessThan(1e-4);
      for (const [r, c, seed] of [
        [6, 4, 1],
        [8, 8, 2],
        [5, 12, 3],
      ] as const) {
        const y = newtonSchulz(T.randn([r, c], { device: dev, seed }));
        const small = r <= c ? T.matmul(y, T.transpose(y)) : T.matmul(T.transpose(y), y);
        const sv = symmetricEigenvalues((await small.toArray()) as number[][]).map(Math.sqrt);
        for (const s of sv) {
          expect(s).toBeGreaterThan(0.6);
          expect(s).toBeLessThan(1.25);
        }
      }
    },
  );
});

describe('newtonSchulz arguments', () => {
  it('rejects a non-matrix and a bad step count', () => {
    expect(() => newtonSchulz(T.zeros([3], { device: cpu }))).toThrow(
      /newtonSchulz: expected a matrix, got shape \[3\]/,
    );
    expect(() => newtonSchulz(T.zeros([2, 2], { device: cpu }), 0)).toThrow(
      /newtonSchulz: steps must be a positive integer, got 0/,
    );
  });
});
