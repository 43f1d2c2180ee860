import { qkClip } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

describe('qkClip', () => {
  it.each(all)(
    'QK-clip brings each over-threshold head to at most tau and leaves the rest ($info.backend)',
    async (dev) => {
      const [heads, headDim, d] = [2, 3, 4];
      const wq = T.mul(T.randn([heads * headDim, d], { device: dev, seed: 1 }), 4);
      const wk = T.mul(T.randn([heads * headDim, d], { device: dev, seed: 2 }), 4);
      const x = T.randn([5, d], { device: dev, seed: 3 });
      const maxLogit = async () => {
        const q = (await T.matmul(x, T.transpose(wq)).toArray()) as number[][];
        const k = (await T.matmul(x, T.transpose(wk)).toArray()) as number[][];
        return Array.from({ length: heads }, (_, h) => {
          let best = Number.NEGATIVE_INFINITY;
          for (const qi of q)
            for (const kj of k) {
              let s = 0;
              for (let e = h * headDim; e < (h + 1) * headDim; e++) s += qi[e]! * kj[e]!;
              best = Math.max(best, s);
            }
          return best;
        });
      };
      const before = await maxLogit();
      const tau = (before[0]! + before[1]!) / 2;
      const gamma = qkClip(wq, wk, before, { heads, tau });
      const after = await maxLogit();
      for (let h = 0; h < heads; h++) {
        if (before[h]! > tau) {
          expect(gamma[h]).toBeLessThan(1);
          expect(after[h]!).toBeLessThanOrEqual(tau * (1 + 1e-4));
        } else {
          expect(gamma[h]).toBe(1);
          expect(after[h]).toBeCloseTo(before[h]!, 3);
        }
      }
    },
  );

  it('rejects unknown options and a mismatched head count', () => {
    const w = T.zeros([4, 2], { device: cpu });
    expect(() => qkClip(w, w, [1, 1], { heads: 2, tau: 1, kvheads: 1 } as never)).toThrow(
      /qkClip: unknown option "kvheads" \(known options: heads, kvHeads, tau\)/,
    );
    expect(() => qkClip(w, w, [1], { heads: 2, tau: 1 })).toThrow(
      /qkClip: expected 2 max logits \(one per query head\), got 1/,
    );
  });
});
