import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { firstNonFinite } from './finite.js';

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
