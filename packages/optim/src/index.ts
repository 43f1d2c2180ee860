/**
 * @packageDocumentation
 * Optimizers for Tessera: a small protocol (`Optimizer`) with SGD, AdamW, Lion and Muon (plus
 * MuonClip's QK-clip), fused WGSL update kernels, learning-rate schedules and gradient clipping.
 */

export { type AdamState, AdamW, type AdamWHyperParameters, type AdamWOptions } from './adamw.js';
export { clipGradNorm } from './clip.js';
export { type FusedUpdateSpec, fusedUpdate } from './fused-update.js';
export { Lion, type LionOptions } from './lion.js';
export { Muon, type MuonOptions, type MuonState, muonParamGroups } from './muon.js';
export { NS_COEFFICIENTS, newtonSchulz } from './newton-schulz.js';
export {
  type BaseOptions,
  type LearningRate,
  OPTIMIZER_STATE_FORMAT,
  Optimizer,
  type OptimizerState,
  type OptimizerStateV1,
  type ParamGroup,
  type ParamsInput,
  type UpdateContext,
} from './optimizer.js';
export { type QKClipOptions, qkClip } from './qk-clip.js';
export {
  type Schedule,
  type WarmupCosineOptions,
  type WarmupStableDecayOptions,
  warmupCosine,
  warmupStableDecay,
} from './schedule.js';
export { SGD, type SGDOptions } from './sgd.js';
