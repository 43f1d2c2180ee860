import { approxKl, klPerToken } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { B, T: L } = fx.inputs;

describe.each(all)('KL estimators ($info.backend)', (dev) => {
  const logp = t(dev, fx.inputs.logp, [B, L]);
  const ref = t(dev, fx.inputs.ref, [B, L]);

  for (const k of ['k1', 'k2', 'k3'] as const) {
    it(`${k} matches the PyTorch fixture`, async () => {
      expect(maxRelError(await klPerToken(logp, ref, k).data(), fx.kl[k])).toBeLessThan(1e-5);
    });
  }

  it('k2 and k3 are never negative; all are 0 when the models agree', async () => {
    for (const k of ['k2', 'k3'] as const)
      expect(Math.min(...(await klPerToken(logp, ref, k).data()))).toBeGreaterThanOrEqual(0);
    for (const k of ['k1', 'k2', 'k3'] as const)
      expect(Math.max(...(await klPerToken(logp, logp, k).data()).map(Math.abs))).toBe(0);
  });

  it('approxKl matches the PyTorch fixture', async () => {
    const mask = t(dev, fx.inputs.mask, [B, L]);
    const old = t(dev, fx.inputs.old, [B, L]);
    expect(await approxKl(logp, old, mask).item()).toBeCloseTo(fx.kl.approxKl, 6);
  });
});

describe('KL estimators: errors and gradients', () => {
  it('reject an unknown estimator', () => {
    const x = T.zeros([1, 2], { device: cpu });
    // @ts-expect-error: not an estimator
    expect(() => klPerToken(x, x, 'k4')).toThrow(
      /klPerToken: estimator must be one of 'k1', 'k2', 'k3', got "k4"/,
    );
  });

  it('are differentiable in both log-probs', async () => {
    for (const k of ['k1', 'k2', 'k3'] as const) {
      const f = (a: T.Tensor, b: T.Tensor) => klPerToken(a, b, k);
      expect(
        await gradCheck(
          cpu,
          f,
          [smoothValues(6, 2, -3, -1), smoothValues(6, 3, -3, -1)],
          [
            [2, 3],
            [2, 3],
          ],
        ),
      ).toBeLessThan(1e-2);
    }
  });
});
