/**
 * @packageDocumentation
 * Masked diffusion language models on the Tessera stack (LLaDA, MDLM): a bidirectional mask
 * predictor built from `@tessera/transformer`'s parts, the forward (masking) process and the
 * training loss with its SFT variant, the reverse process — low-confidence or random remasking
 * with a schedule, semi-autoregressive blocks, the sampler's processors per position,
 * Fast-dLLM's confidence-threshold parallel decoding — fill-in-the-middle, and the ELBO bound on
 * the log-likelihood.
 */
export {
  DENOISE_OPTION_KEYS,
  type DenoiseInput,
  type DenoiseOptions,
  type DenoiseResult,
  denoise,
} from './denoise.js';
export type { DiffusionLM } from './diffusion-lm.js';
export { type DiffusionNllOptions, diffusionNll } from './elbo.js';
export { type MaskTokensOptions, maskTokens, type NoisedBatch } from './forward-process.js';
export {
  cutAtStops,
  type DiffusionGenerateOptions,
  type DiffusionGeneration,
  generate,
  generateText,
} from './generate.js';
export { cropContext, type InfillOptions, infill, infillText } from './infill.js';
export {
  type MaskedDiffusionLossOptions,
  maskedDiffusionLoss,
  maskedDiffusionNelbo,
} from './loss.js';
export { MaskedDiffusionLM, type MaskedDiffusionLMOptions } from './masked-diffusion-lm.js';
export {
  chooseCommits,
  type Proposal,
  type ProposalRule,
  propose,
  type Remasking,
} from './remasking.js';
export { transferCounts, type UnmaskSchedule } from './schedule.js';
