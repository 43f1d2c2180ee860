import { gae } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { B, T: L } = fx.inputs;

describe.each(all)('gae ($info.backend)', (dev) => {
  it("matches TRL PPOTrainer's GAE loop (PyTorch) on right-padded rows", async () => {
    const rewards = t(dev, fx.ppo.rewards_k1, [B, L]);
    const values = t(dev, fx.inputs.values, [B, L]);
    const mask = t(dev, fx.inputs.mask, [B, L]);
    const out = await gae(rewards, values, mask, { gamma: fx.ppo.gamma, lambda: fx.ppo.lam });
    expect(out.advantages.device).toBe(dev);
    expect(maxRelError(await out.advantages.data(), fx.ppo.advantages)).toBeLessThan(1e-5);
    expect(maxRelError(await out.returns.data(), fx.ppo.returns)).toBeLessThan(1e-5);
  });
});

describe('gae', () => {
  it('follows the recursion by hand: δ_t = r_t + γV_{t+1} − V_t, A_t = δ_t + γλA_{t+1}', async () => {
    const [g, l] = [0.5, 0.8];
    const out = await gae(
      T.tensor([[0, 0, 1]], { device: cpu }),
      T.tensor([[0.2, 0.4, 0.6]], { device: cpu }),
      T.ones([1, 3], { device: cpu }),
      { gamma: g, lambda: l },
    );
    const a2 = 1 - 0.6;
    const a1 = 0 + g * 0.6 - 0.4 + g * l * a2;
    const a0 = 0 + g * 0.4 - 0.2 + g * l * a1;
    expect(maxRelError(await out.advantages.data(), [a0, a1, a2])).toBeLessThan(1e-6);
    expect(maxRelError(await out.returns.data(), [a0 + 0.2, a1 + 0.4, a2 + 0.6])).toBeLessThan(
      1e-6,
    );
  });

  it('passes over masked positions: a left-padded row gives the same advantages as unpadded', async () => {
    const rewards = [0.3, -0.1, 1.2];
    const values = [0.5, 0.1, -0.4];
    const plain = await gae(
      T.tensor([rewards], { device: cpu }),
      T.tensor([values], { device: cpu }),
      T.ones([1, 3], { device: cpu }),
    );
    const padded = await gae(
      T.tensor([[9, ...rewards]], { device: cpu }),
      T.tensor([[9, ...values]], { device: cpu }),
      T.tensor([[0, 1, 1, 1]], { device: cpu }),
    );
    expect(Array.from(await padded.advantages.data())).toEqual([
      0,
      ...(await plain.advantages.data()),
    ]);
  });

  it('rejects γ outside [0, 1] and unknown options', async () => {
    const x = T.zeros([1, 2], { device: cpu });
    await expect(gae(x, x, x, { gamma: 1.5 })).rejects.toThrow(
      /gae: gamma must be a finite number >= 0 and <= 1, got number 1.5/,
    );
    // @ts-expect-error: TRL's name, not ours
    await expect(gae(x, x, x, { lam: 0.9 })).rejects.toThrow(/unknown option "lam"/);
  });
});
