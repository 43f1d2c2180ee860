import type { BaseOptions, Optimizer } from '@tessera/optim';
import type { CausalLM } from '@tessera/sampler';
import { checkOptions, noGrad, type Tensor, tidy } from '@tessera/tensor-webgpu';
import { batchTensors, packingOptions } from './batch-tensors.js';
import { applyGradients } from './optimizer-step.js';
import type { TokenBatch } from './packing.js';
import { sftLoss } from './sft.js';

export interface SftStepOptions {
  /** Clip the global gradient norm to this. Default 1 (TRL `max_grad_norm`). */
  maxGradNorm?: number;
}

/** What an SFT step measured. */
export interface SftStepResult {
  /** Mean cross-entropy over the batch's target tokens, nats/token. */
  loss: number;
  /** Target tokens in the batch (the loss mask's 1s). */
  tokens: number;
}

/**
 * One supervised fine-tuning step: the model's logits for the batch, `sftLoss` over the target
 * tokens (assistant tokens, or every real token — as the batch's loss mask says), gradients,
 * clipping, the optimizer's update. The optimizer holds the parameters that train: all of them
 * for full fine-tuning, LoRA's adapters (and any unfrozen embeddings) otherwise.
 *
 * Rows hold one example each (`padSequences`) or several (`packSequences`): packed rows reach the
 * model with their position ids and document ids (`ForwardOptions.positions`, `documentIds`), so
 * examples restart their positions and never attend to each other — the model must support
 * packing (`@tessera/transformer`'s models do; others throw).
 *
 * @param batch - token rows with their loss mask (`padSequences` or `packSequences`)
 * @throws RangeError / TypeError - bad options (before the model runs); a model without packing
 *   support given packed rows
 */
export async function sftStep(
  model: CausalLM,
  optimizer: Optimizer<BaseOptions>,
  batch: TokenBatch,
  options: SftStepOptions = {},
): Promise<SftStepResult> {
  checkOptions('sftStep', options, ['maxGradNorm']);
  const loss = tidy(() => {
    const { ids, lossMask } = batchTensors(batch, model.device);
    const l = sftLoss(model.forward(ids, packingOptions(batch, model.device)), ids, lossMask);
    applyGradients('sftStep', optimizer, l, options.maxGradNorm);
    return l;
  });
  const value = await loss.item();
  loss.dispose();
  return { loss: value, tokens: targetTokens(batch) };
}

/**
 * The SFT loss of a batch without gradient (validation): mean cross-entropy over its target
 * tokens, and their count, so that several batches combine into a token mean. Packed rows as
 * in `sftStep`.
 */
export async function sftEvalLoss(model: CausalLM, batch: TokenBatch): Promise<SftStepResult> {
  const loss: Tensor = noGrad(() =>
    tidy(() => {
      const { ids, lossMask } = batchTensors(batch, model.device);
      return sftLoss(model.forward(ids, packingOptions(batch, model.device)), ids, lossMask);
    }),
  );
  const value = await loss.item();
  loss.dispose();
  return { loss: value, tokens: targetTokens(batch) };
}

function targetTokens(batch: TokenBatch): number {
  let n = 0;
  for (const m of batch.lossMask) n += m;
  return n;
}
