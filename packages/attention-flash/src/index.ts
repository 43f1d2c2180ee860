/**
 * @packageDocumentation
 * Exact flash attention in WGSL for the Tessera tensor core: forward and backward, MHA/GQA/MQA,
 * causal, sliding window and padding masks, and flash-decoding over a KV cache.
 */
export {
  type AttentionWithLse,
  attention,
  type FlashOptions,
  type ReturnLseOption,
} from './attention.js';
export { decodeAttention } from './decode.js';
export type { FlashKernel } from './flash-forward.js';
export { KVCache, type KVCacheOptions } from './kv-cache.js';
export { naiveAttention } from './naive.js';
export type { AttentionOptions, SequenceAttentionOptions } from './options.js';
