import { maskedWhiten } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { B, T: L } = fx.inputs;

describe.each(all)('maskedWhiten ($info.backend)', (dev) => {
  const x = t(dev, fx.inputs.advTok, [B, L]);
  const mask = t(dev, fx.inputs.mask, [B, L]);

  it("matches TRL's masked_whiten (PyTorch fixture), with and without the mean", async () => {
    expect(maxRelError(await maskedWhiten(x, mask).data(), fx.whiten.shift)).toBeLessThan(1e-5);
    const keep = maskedWhiten(x, mask, { shiftMean: false });
    expect(maxRelError(await keep.data(), fx.whiten.keepMean)).toBeLessThan(1e-5);
  });
});

it('maskedWhiten rejects unknown options', () => {
  const x = T.zeros([1, 2], { device: cpu });
  // @ts-expect-error: misspelt option
  expect(() => maskedWhiten(x, x, { shift_mean: false })).toThrow(/unknown option "shift_mean"/);
});
