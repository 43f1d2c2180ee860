/**
 * @packageDocumentation
 * GPT/Llama-style transformers on the Tessera stack, as parts: a `Trunk` (embeddings, pre-norm
 * blocks, final norm, with per-row KV caches), heads (LM, scalar reward/value, classification on
 * the first token), a feed-forward factory that also takes your own layer (mixture of experts),
 * and the models built from them: `DecoderLM` (a `CausalLM` with Hugging Face Llama parameter
 * names) and a bidirectional `Encoder`.
 */
export { Attention, type LayerContext, type Rotary } from './attention.js';
export { auxLosses } from './aux-loss.js';
export { Block } from './block.js';
export { DecoderCache, type DecoderCacheOptions } from './cache.js';
export { type ResolvedConfig, resolveConfig, seeder, type TransformerConfig } from './config.js';
export { type DecoderForwardOptions, DecoderLM } from './decoder-lm.js';
export { Encoder } from './encoder.js';
export {
  type FeedForward,
  type FeedForwardFactory,
  type FeedForwardSpec,
  feedForward,
} from './ffn.js';
export { ClassificationHead, type HeadOptions, ScalarHead } from './heads.js';
export { Trunk, type TrunkForwardOptions, type TrunkOptions } from './trunk.js';
