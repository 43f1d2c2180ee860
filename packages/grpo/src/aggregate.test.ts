import { aggregateLoss, type LossType } from '@tessera/grpo';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { fx, t } from './test-utils/fixture.js';

const { all, cpu } = await testDevices();
const { B, T: L } = fx.inputs;

describe.each(all)('aggregateLoss ($info.backend)', (dev) => {
  // Per-token losses [[1, 2, 3], [4, 5, 6]]; the first row keeps 2 tokens, the second 1.
  const losses = T.tensor(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    { device: dev },
  );
  const mask = T.tensor(
    [
      [1, 1, 0],
      [1, 0, 0],
    ],
    { device: dev },
  );

  it('each loss type on a batch computed by hand', async () => {
    const value = async (options: Parameters<typeof aggregateLoss>[2]) =>
      aggregateLoss(losses, mask, options).item();
    // grpo: mean of the sequence means (1 + 2)/2 and 4/1.
    expect(await value({ lossType: 'grpo' })).toBeCloseTo((1.5 + 4) / 2, 6);
    // bnpo: token mean over the batch.
    expect(await value({ lossType: 'bnpo' })).toBeCloseTo((1 + 2 + 4) / 3, 6);
    // dr_grpo: token sum over B × the generation limit.
    expect(await value({ lossType: 'dr_grpo', maxCompletionLength: 4 })).toBeCloseTo(
      7 / (2 * 4),
      6,
    );
    // dapo: token sum over this batch's tokens, or over the whole step's.
    expect(await value({ lossType: 'dapo' })).toBeCloseTo(7 / 3, 6);
    expect(await value({ lossType: 'dapo', tokensInBatch: 10 })).toBeCloseTo(7 / 10, 6);
    // Accumulation divides the per-batch means.
    expect(await value({ lossType: 'grpo', accumulationSteps: 2 })).toBeCloseTo(2.75 / 2, 6);
  });

  it('dapo over two micro-batches adds up to the token mean of both; bnpo does not', async () => {
    const second = T.tensor([[7, 8, 9]], { device: dev });
    const secondMask = T.tensor([[1, 1, 1]], { device: dev });
    const tokensInBatch = 3 + 3;
    const dapo =
      (await aggregateLoss(losses, mask, { tokensInBatch }).item()) +
      (await aggregateLoss(second, secondMask, { tokensInBatch }).item());
    expect(dapo).toBeCloseTo((1 + 2 + 4 + 7 + 8 + 9) / 6, 5);
    const bnpo =
      (await aggregateLoss(losses, mask, { lossType: 'bnpo', accumulationSteps: 2 }).item()) +
      (await aggregateLoss(second, secondMask, { lossType: 'bnpo', accumulationSteps: 2 }).item());
    expect(bnpo).toBeCloseTo((7 / 3 + 24 / 3) / 2, 5);
  });

  for (const lossType of ['grpo', 'bnpo', 'dr_grpo', 'dapo'] as LossType[]) {
    it(`${lossType} matches TRL's loss on the fixture's per-token losses (PyTorch)`, async () => {
      const want = fx.loss[lossType];
      const perToken = t(dev, want.perTokenLoss, [B, L]);
      const options =
        lossType === 'dapo'
          ? { lossType, tokensInBatch: fx.loss.tokensInBatch }
          : {
              lossType,
              accumulationSteps: fx.loss.accumulationSteps,
              ...(lossType === 'dr_grpo' && { maxCompletionLength: fx.loss.maxCompletionLength }),
            };
      const got = await aggregateLoss(perToken, t(dev, fx.inputs.mask, [B, L]), options).item();
      expect(maxRelError([got], [want.loss])).toBeLessThan(1e-5);
    });
  }
});

describe('aggregateLoss: errors', () => {
  const x = T.zeros([2, 3], { device: cpu });
  it('names a missing or misplaced option', () => {
    expect(() => aggregateLoss(x, x, { lossType: 'dr_grpo' })).toThrow(
      /lossType 'dr_grpo' needs maxCompletionLength/,
    );
    expect(() => aggregateLoss(x, x, { lossType: 'grpo', tokensInBatch: 5 })).toThrow(
      /tokensInBatch is read by lossType 'dapo' only, got 'grpo'/,
    );
    expect(() => aggregateLoss(x, x, { accumulationSteps: 2 })).toThrow(
      /'dapo' normalises by tokensInBatch/,
    );
    expect(() => aggregateLoss(x, x, { lossType: 'bnpo', maxCompletionLength: 4 })).toThrow(
      /maxCompletionLength is read by lossType 'dr_grpo' only/,
    );
    // @ts-expect-error: not a loss type
    expect(() => aggregateLoss(x, x, { lossType: 'ppo' })).toThrow(
      /lossType must be one of 'grpo', 'bnpo', 'dr_grpo', 'dapo'/,
    );
  });
});
