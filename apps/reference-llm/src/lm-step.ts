import { updateExpertBiases } from '@tessera/moe';
import { type BaseOptions, clipGradNorm, type Optimizer } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import type { DecoderLM } from '@tessera/transformer';
import { batchAt, type TokenBatch } from './batch.js';

/**
 * The training loss of a batch, a scalar tensor: the mean next-token cross-entropy (nats/token)
 * plus every auxiliary loss the model's layers produced in that forward pass (a mixture of
 * experts' load balancing; `DecoderLM.auxLosses`).
 */
export function nextTokenLoss(model: DecoderLM, { x, y }: TokenBatch): T.Tensor {
  const logits = model.forward(x);
  const ce = T.crossEntropy(T.reshape(logits, [-1, model.vocabSize]), y);
  return Object.values(model.auxLosses()).reduce((sum, aux) => T.add(sum, aux), ce);
}

/**
 * One language-modelling step on a batch, the step function of pretraining: forward, backward,
 * the global gradient norm clipped to 1, the optimizer's update, then the selection biases of
 * auxiliary-loss-free MoE layers (`updateExpertBiases`; nothing for other models). Frees the batch; returns the
 * loss read back. Knows nothing of data, schedules or checkpoints (the optimizer holds its
 * schedules; the training loop does the rest).
 */
export async function languageModelStep(
  model: DecoderLM,
  optimizer: Optimizer<BaseOptions>,
  batch: TokenBatch,
): Promise<number> {
  const loss = T.tidy(() => {
    optimizer.zeroGrad();
    const l = nextTokenLoss(model, batch);
    l.backward();
    clipGradNorm(model.parameters(), 1.0).dispose();
    optimizer.step();
    updateExpertBiases(model);
    return l;
  });
  const value = await loss.item();
  for (const t of [batch.x, batch.y, loss]) t.dispose();
  return value;
}

/**
 * Validation loss during training: the mean of `nextTokenLoss` (nats/token) over `batches`
 * batches of `batchSize` windows of `seqLen` tokens drawn from `ids` (`batchAt` with seeds
 * `seed`, `seed + 1`, …: the same windows at every evaluation), without gradients. A sample of
 * the split, cheap enough to run at intervals; `evaluateCheckpoint` scores every token. Runs
 * in eval mode (no dropout, no MoE auxiliary loss), restoring training mode after.
 */
export async function validationLoss(
  model: DecoderLM,
  ids: Int32Array,
  o: { batches: number; batchSize: number; seqLen: number; seed: number },
): Promise<number> {
  let sum = 0;
  const training = model.training;
  model.eval(); // no dropout; mixture-of-experts layers add no auxiliary loss and count no routing
  try {
    for (let b = 0; b < o.batches; b++) {
      const batch = batchAt(ids, o.batchSize, o.seqLen, o.seed + b, model.device);
      const loss = T.noGrad(() => T.tidy(() => nextTokenLoss(model, batch)));
      sum += await loss.item();
      for (const t of [batch.x, batch.y, loss]) t.dispose();
    }
  } finally {
    if (training) model.train();
  }
  return sum / o.batches;
}
