import {
  checkOptions,
  crossEntropy,
  div,
  mean,
  mul,
  reshape,
  sum,
  type Tensor,
} from '@tessera/tensor-webgpu';

function checkInputs(where: string, logits: Tensor, targets: Tensor, masked: Tensor, t: Tensor) {
  const [b, len] = targets.shape as [number, number];
  const shape = (x: Tensor) => `${x.dtype} [${x.shape.join(', ')}]`;
  if (targets.rank !== 2 || targets.dtype !== 'i32')
    throw new TypeError(`${where}: targets must be i32 [batch, T], got ${shape(targets)}`);
  if (logits.rank !== 3 || logits.shape[0] !== b || logits.shape[1] !== len)
    throw new RangeError(`${where}: logits must be [${b}, ${len}, vocab], got ${shape(logits)}`);
  if (masked.shape.join() !== `${b},${len}` || masked.dtype !== 'f32')
    throw new RangeError(`${where}: masked must be f32 [${b}, ${len}], got ${shape(masked)}`);
  if (t.shape.join() !== `${b}` || t.dtype !== 'f32')
    throw new RangeError(`${where}: t must be f32 [${b}], got ${shape(t)}`);
}

/**
 * Each sequence's negative ELBO estimate in nats, the masked diffusion bound on −log p(x_0)
 * (MDLM, Sahoo et al. 2024, §3: the continuous-time NELBO with the linear schedule α_t = 1 − t;
 * LLaDA, Nie et al. 2025, §2.2): Σᵢ maskedᵢ · CE(logitsᵢ, x_0ⁱ) / t — the cross-entropy of the
 * masked positions only, weighted 1/t. Its expectation over t ~ U(0, 1] and the masks is an
 * upper bound on the sequence's negative log-likelihood; with the positions before a prompt
 * never masked, on the conditional one.
 *
 * @param logits - the model's logits for the noised input x_t, f32 [B, T, V]
 * @param targets - the clean tokens x_0, i32 [B, T]
 * @param masked - 1 where x_t is masked, f32 [B, T]
 * @param t - each row's masking rate, f32 [B]
 * @returns f32 [B], differentiable in `logits`
 * @throws TypeError / RangeError - tensors of the wrong shape or dtype, naming them
 */
export function maskedDiffusionNelbo(
  logits: Tensor,
  targets: Tensor,
  masked: Tensor,
  t: Tensor,
): Tensor {
  checkInputs('maskedDiffusionNelbo', logits, targets, masked, t);
  const perToken = crossEntropy(logits, targets, { reduction: 'none' }); // [B, T]
  return div(sum(mul(perToken, masked), 1), t);
}

/** Options of `maskedDiffusionLoss`. */
export interface MaskedDiffusionLossOptions {
  /**
   * Supervised fine-tuning (LLaDA §2.3): each row's answer length, f32 [B] — the tokens after
   * its prompt, padding `<|EOS|>` included — which divides that row's sum instead of T.
   */
  answerLengths?: Tensor;
}

/**
 * The training loss of a masked diffusion LM, exactly as LLaDA's reference code (`GUIDELINES.md`)
 * computes it: the cross-entropy of the masked positions only, each weighted 1/t, summed per
 * row and divided by the sequence length T, averaged over the batch —
 * (1/B) Σ_b (1/T) Σᵢ masked_bi · CE_bi / t_b, i.e. `maskedDiffusionNelbo` per token. In
 * pre-training this is `token_loss.sum() / (b · l)`; with `answerLengths` (SFT, the prompt never
 * masked by `maskTokens`) row b's sum is divided by its answer length instead.
 *
 * @param logits - the model's logits for the noised input, f32 [B, T, V]
 * @param targets - the clean tokens x_0, i32 [B, T]
 * @param masked - 1 where the input is masked, f32 [B, T]
 * @param t - each row's masking rate, f32 [B]
 * @returns a 0-d f32 tensor in nats per token, differentiable in `logits`
 * @throws TypeError / RangeError - tensors of the wrong shape or dtype, or unknown options
 */
export function maskedDiffusionLoss(
  logits: Tensor,
  targets: Tensor,
  masked: Tensor,
  t: Tensor,
  options: MaskedDiffusionLossOptions = {},
): Tensor {
  checkOptions('maskedDiffusionLoss', options, ['answerLengths']);
  const nelbo = maskedDiffusionNelbo(logits, targets, masked, t);
  const { answerLengths } = options;
  if (!answerLengths) return div(mean(nelbo), targets.shape[1]!);
  const rows = targets.shape[0]!;
  if (answerLengths.shape.join() !== `${rows}` || answerLengths.dtype !== 'f32')
    throw new RangeError(
      `maskedDiffusionLoss: answerLengths must be f32 [${rows}], got ${answerLengths.dtype} [${answerLengths.shape.join(', ')}]`,
    );
  return mean(div(nelbo, reshape(answerLengths, [rows])));
}
