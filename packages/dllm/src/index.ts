/**
 * @packageDocumentation
 * Masked diffusion language models on the Tessera stack (LLaDA, MDLM): a bidirectional mask
 * predictor built from `@tessera/transformer`'s parts, the forward (masking) process and the
 * training loss with its SFT variant.
 */
export type { DiffusionLM } from './diffusion-lm.js';
export { type MaskTokensOptions, maskTokens, type NoisedBatch } from './forward-process.js';
export {
  type MaskedDiffusionLossOptions,
  maskedDiffusionLoss,
  maskedDiffusionNelbo,
} from './loss.js';
export { MaskedDiffusionLM, type MaskedDiffusionLMOptions } from './masked-diffusion-lm.js';
