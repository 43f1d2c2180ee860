import { maskedDiffusionLoss, maskTokens } from '@tessera/dllm';
import { type BaseOptions, clipGradNorm, type Optimizer } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import type { DiffusionModel } from './load.js';

/**
 * The diffusion loss of a batch of clean windows, a scalar tensor: the forward process (a rate
 * t per row, masks drawn from `seed` on the device) and LLaDA's loss — the masked positions'
 * cross-entropy weighted 1/t, per token. Its expectation is the ELBO bound in nats per token.
 */
export function diffusionLoss(model: DiffusionModel, ids: T.Tensor, seed: number): T.Tensor {
  const { input, masked, t } = maskTokens(ids, { maskId: model.maskId, seed });
  return maskedDiffusionLoss(model.forward(input), ids, masked, t);
}

/**
 * One training step of the diffusion model on a batch of windows: the loss, backward, the global
 * gradient norm clipped to 1, the optimizer's update (the schedules live in the optimizer).
 * Frees the batch; returns the loss read back.
 */
export async function diffusionStep(
  model: DiffusionModel,
  optimizer: Optimizer<BaseOptions>,
  ids: T.Tensor,
  seed: number,
): Promise<number> {
  const loss = T.tidy(() => {
    optimizer.zeroGrad();
    const l = diffusionLoss(model, ids, seed);
    l.backward();
    clipGradNorm(model.parameters(), 1.0).dispose();
    optimizer.step();
    return l;
  });
  const value = await loss.item();
  for (const t of [ids, loss]) t.dispose();
  return value;
}
