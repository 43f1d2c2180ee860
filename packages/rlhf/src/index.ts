/**
 * @packageDocumentation
 * Losses for tuning language models, as pure functions on tensors (WebGPU or the CPU
 * reference): supervised fine-tuning with sequence packing, a Bradley–Terry reward model,
 * DPO/IPO/SimPO/hinge, PPO with GAE and KL control — and the RL primitives they share with
 * `@tessera/grpo` (masked means, KL estimators, the clipped surrogate, entropy, clip statistics).
 */

export {
  type BatchTensors,
  batchTensors,
  checkOnePerRow,
  lastTokenIndices,
  oneHotRows,
} from './batch-tensors.js';
export {
  checkChoice,
  checkNumber,
  checkTensor,
  type NumberRange,
  type TensorSpec,
} from './check.js';
export {
  type DpoInputs,
  type DpoOptions,
  dpoLoss,
  type PreferenceLoss,
  type SimpoInputs,
  type SimpoOptions,
  simpoLoss,
} from './dpo.js';
export {
  type CompletionLogps,
  completionLogps,
  type DpoStepOptions,
  type DpoStepResult,
  dpoEval,
  dpoStep,
  type PreferenceLossType,
} from './dpo-step.js';
export { entropyFromLogits } from './entropy.js';
export { type Gae, type GaeOptions, gae } from './gae.js';
export { approxKl, type KlEstimator, klPerToken } from './kl.js';
export {
  AdaptiveKLController,
  type AdaptiveKLOptions,
  FixedKLController,
  type KLController,
} from './kl-controller.js';
export { logSigmoid } from './log-sigmoid.js';
export { maskedMean, maskedSum, sequenceMean, sequenceSum } from './masked.js';
export type { ScalarModel } from './models.js';
export { applyGradients } from './optimizer-step.js';
export {
  type BatchOptions,
  packSequences,
  padSequences,
  type TokenBatch,
  type TokenizedExample,
} from './packing.js';
export {
  type PpoInputs,
  type PpoLoss,
  type PpoLossOptions,
  type PpoRewardOptions,
  type PpoRewards,
  ppoLoss,
  ppoRewards,
} from './ppo.js';
export {
  type PpoModels,
  ppoRollout,
  type Rollout,
  type RolloutOptions,
  type RolloutStats,
} from './ppo-rollout.js';
export { type PpoStepOptions, type PpoStepResult, ppoStep } from './ppo-step.js';
export { type PreferencePair, preferenceBatch } from './preference-batch.js';
export { type RewardLoss, type RewardLossOptions, rewardModelLoss } from './reward-model.js';
export {
  type RewardStepOptions,
  type RewardStepResult,
  rewardEval,
  rewardStep,
  sequenceScores,
} from './reward-step.js';
export { type SftLossOptions, sftLoss } from './sft.js';
export { type SftStepOptions, type SftStepResult, sftEvalLoss, sftStep } from './sft-step.js';
export { shiftRight } from './shift.js';
export {
  type ClipFractions,
  type ClipOptions,
  clipFractions,
  clippedSurrogate,
} from './surrogate.js';
export { clippedValueLoss, type ValueLoss, type ValueLossOptions } from './value-loss.js';
export { maskedWhiten, type WhitenOptions } from './whiten.js';
