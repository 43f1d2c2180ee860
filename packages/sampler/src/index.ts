/**
 * @packageDocumentation
 * From logits to text: composable logits processors (CPU and GPU), greedy, seeded sampling and
 * beam search, speculative decoding, batched generation with per-row KV-cache positions
 * (continuous batching), on-device per-token log-probabilities, all over any `CausalLM`.
 */

export {
  DecodeBatch,
  type DecodeBatchOptions,
  type GenerateOptions,
  generateBatch,
  logprobsOf,
  type StepToken,
  type TokenLogprob,
} from './batch.js';
export { type BeamHypothesis, type BeamOptions, beamSearch } from './beam.js';
export { type GenerateStreamOptions, generate, generateText } from './generate.js';
export { sampleOnDevice } from './gpu.js';
export { type TokenLogprobsOptions, tokenLogprobs } from './logprobs.js';
export type { CausalLM, ForwardOptions, ModelCache, TextCodec } from './model.js';
export {
  banTokens,
  forceToken,
  kthLargest,
  type LogitsProcessor,
  logitBias,
  minP,
  nucleusThreshold,
  type ProcessContext,
  presenceFrequencyPenalty,
  processLogits,
  processorChain,
  repetitionPenalty,
  SAMPLING_OPTION_KEYS,
  type SamplingOptions,
  softmaxRow,
  temperature,
  topK,
  topP,
  typicalP,
  validateOptions,
} from './processors.js';
export { argmaxRow, checkFiniteLogits, NonFiniteLogitsError, sampleIndex } from './rng.js';
export { DecodeRows, type DecodeRowsOptions } from './rows.js';
export {
  type SpeculativeOptions,
  type SpeculativeResult,
  speculativeGenerate,
} from './speculative.js';
