/**
 * @packageDocumentation
 * Evaluation for language models. So far: perplexity and bits per byte from token
 * log-probabilities (the metrics suite, LLM-as-a-judge and benchmark runner are to come).
 */
export { bitsPerByte, bitsPerByteFromMeanNll, meanNll, perplexity } from './perplexity.js';
