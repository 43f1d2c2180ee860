import { logSigmoid } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { x, y, grad } = fx.logSigmoid;

describe.each(all)('logSigmoid ($info.backend)', (dev) => {
  it('matches torch.nn.functional.logsigmoid and its gradient, extremes included', async () => {
    const input = t(dev, x, [x.length]).requiresGrad_();
    const out = logSigmoid(input);
    expect(maxRelError(await out.data(), y)).toBeLessThan(1e-6);
    T.sum(out).backward();
    expect(maxRelError(await input.grad!.data(), grad)).toBeLessThan(1e-6);
  });

  it('has gradient exactly σ(0) = 0.5 at 0, where DPO starts', async () => {
    const zero = T.zeros([1], { device: dev, requiresGrad: true });
    T.sum(logSigmoid(zero)).backward();
    expect(await zero.grad!.item()).toBe(0.5);
  });
});

it('gradient matches finite differences', async () => {
  expect(await gradCheck(cpu, logSigmoid, [[-3, -0.4, 0.3, 2.5]], [[4]])).toBeLessThan(1e-2);
});
