/**
 * @packageDocumentation
 * From logits to text: composable logits processors (CPU and GPU), greedy, seeded sampling and
 * beam search, speculative decoding, and a streaming generate loop over any `CausalLM`.
 */

export { type BeamHypothesis, type BeamOptions, beamSearch } from './beam.js';
export { type GenerateOptions, generate, generateText, lastLogits } from './generate.js';
export { sampleOnDevice } from './gpu.js';
export type { CausalLM, TextCodec } from './model.js';
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
  type SamplingOptions,
  softmaxRow,
  temperature,
  topK,
  topP,
  typicalP,
  validateOptions,
} from './processors.js';
export { argmaxRow, sampleIndex } from './rng.js';
export {
  type SpeculativeOptions,
  type SpeculativeResult,
  speculativeGenerate,
} from './speculative.js';
