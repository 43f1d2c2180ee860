/**
 * @packageDocumentation
 * Rotary position embeddings: a fused apply op with backward, both pairing conventions, position
 * offsets for KV-cache decoding, float64 tables, linear/NTK/YaRN/Llama-3.1 scaling, and 2-D RoPE.
 */
export {
  Rope,
  Rope2D,
  type RopeApplyOptions,
  type RopeConvention,
  type RopeOptions,
} from './apply.js';
export {
  inverseFrequencies,
  type RopeConfig,
  type RopeScaling,
  ropeTables,
} from './frequencies.js';
