/**
 * @packageDocumentation
 * GPT/Llama-style transformers on the Tessera stack: `DecoderLM` (a `CausalLM` with KV-cache
 * decoding and Hugging Face Llama parameter names) and a bidirectional `Encoder`.
 */
export { type ResolvedConfig, resolveConfig, type TransformerConfig } from './config.js';
export { Attention, Block, type DecoderCache, DecoderLM, Encoder, Trunk } from './model.js';
