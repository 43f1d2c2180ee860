import { NonFiniteLogitsError } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { firstNonFinite, withFiniteLogits } from './finite.js';

describe('firstNonFinite', () => {
  it('names the first tensor holding a NaN or an infinity, in f32 and f16', async () => {
    const device = await T.createDevice({ backend: 'cpu' });
    const ok = T.tensor([1, 2, 3], { device });
    const ids = T.tensor([1, 2], { device, dtype: 'i32' });
    expect(firstNonFinite(await T.saveSafetensors({ ok, ids }))).toBeUndefined();
    const bad = T.tensor([0, 1, Number.NaN], { device });
    expect(firstNonFinite(await T.saveSafetensors({ ok, bad }))).toBe('bad[2] = NaN');
    const half = T.tensor([1, Number.POSITIVE_INFINITY], { device, dtype: 'f16' });
    expect(firstNonFinite(await T.saveSafetensors({ half }))).toBe('half[1] = not finite');
    expect(() => firstNonFinite(new Uint8Array([1, 2]))).toThrow(/file too short/);
  });
});

describe('withFiniteLogits', () => {
  it("turns the sampler's non-finite logits into the app's error naming the checkpoint; other errors pass", async () => {
    await expect(
      withFiniteLogits('runs/a', async () => {
        throw new NonFiniteLogitsError(7, Number.NaN);
      }),
    ).rejects.toThrow(
      "runs/a: the model produced non-finite logits (the checkpoint's weights overflow?): NaN at token 7 while generating",
    );
    await expect(
      withFiniteLogits('runs/a', async () => {
        throw new Error('other');
      }),
    ).rejects.toThrow(/^other$/);
    expect(await withFiniteLogits('runs/a', async () => 3)).toBe(3);
  });
});
