/**
 * @packageDocumentation
 * GRPO for language models, as pure functions: group-relative advantages, the per-token
 * objective with asymmetric clipping and an optional KL to the reference, the GRPO / BNPO /
 * Dr. GRPO / DAPO loss aggregations, DAPO's dynamic sampling and overlong shaping, verifiable
 * rewards and per-step statistics. The RL primitives come from `@tessera/rlhf`.
 */

export { type GroupAdvantageOptions, groupAdvantages, type ScaleRewards } from './advantages.js';
export { type AggregateOptions, aggregateLoss, type LossType } from './aggregate.js';
export { type DynamicSampling, dynamicSampling } from './dynamic-sampling.js';
export {
  type DrawnGroups,
  type FilledGroups,
  type FillGroupsOptions,
  fillGroups,
} from './fill-groups.js';
export { groupStds, ZERO_STD } from './groups.js';
export {
  type GrpoGroups,
  type GrpoModels,
  type GrpoStepOptions,
  type GrpoStepResult,
  type GrpoUpdate,
  grpoStep,
} from './grpo-step.js';
export { type GrpoInputs, type GrpoLoss, type GrpoLossOptions, grpoLoss } from './loss.js';
export { type OverlongOptions, overlongPenalty } from './overlong.js';
export {
  extractAnswer,
  formatReward,
  type LengthPenaltyOptions,
  lengthPenalty,
  numericAnswerReward,
  parseNumber,
  type RewardFunction,
  type Scores,
  scoreCompletions,
} from './rewards.js';
export { type SampleGroupsOptions, sampleGroups } from './sample-groups.js';
export { type GrpoBatch, type GrpoStatistics, grpoStatistics } from './statistics.js';
