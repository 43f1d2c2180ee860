/**
 * @packageDocumentation
 * Modules and layers on the Tessera tensor core: parameter discovery, state dicts and
 * safetensors checkpoints, Linear/Embedding/norms/MLP/SwiGLU, initialisers, and LoRA.
 */

export {
  type InitOptions,
  kaimingNormal,
  linearDefaultInit,
  normalInit,
  residualStd,
  uniformInit,
  xavierUniform,
} from './init.js';
export {
  Act,
  type Activation,
  activate,
  Dropout,
  Embedding,
  type EmbeddingOptions,
  LayerNorm,
  type LayerNormOptions,
  Linear,
  type LinearOptions,
  MLP,
  type MLPOptions,
  RMSNorm,
  type RMSNormOptions,
  Sequential,
  SwiGLU,
} from './layers.js';
export { applyLoRA, LoRALinear, type LoRAOptions } from './lora.js';
export { isParameter, type LoadStateDictOptions, Module, parameter } from './module.js';
