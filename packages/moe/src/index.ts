/**
 * @packageDocumentation
 * Mixture of experts on the Tessera tensor core: top-k softmax and sigmoid routers, the
 * Switch/GShard load-balancing loss and the ST-MoE z-loss, capacity with token dropping or
 * dropless routing, shared and fine-grained experts, DeepSeek-V3's auxiliary-loss-free
 * balancing, and GPU dispatch (count, permute, one grouped matmul over all experts, combine).
 */
export { combineTokens, dispatchTokens } from './dispatch.js';
export { type ExpertKind, Experts, type ExpertsOptions } from './experts.js';
export {
  type MoEBlockSpec,
  type MoEFeedForwardOptions,
  moeFeedForward,
} from './feed-forward.js';
export { type GroupedMatmulOptions, groupedMatmul } from './grouped-matmul.js';
export { fromHuggingFaceExperts, toHuggingFaceExperts } from './hf-names.js';
export { balanceProbabilities, loadBalancingLoss, routerZLoss } from './losses.js';
export { readRoutingStats, updateExpertBiases } from './model-routing.js';
export { MoE, type MoELosses, type MoEOptions } from './moe.js';
export { naiveMoE } from './naive.js';
export { type DispatchPlan, type RouteTokensOptions, routeTokens } from './route-tokens.js';
export {
  type RouterOptions,
  type RouterScoring,
  type Routing,
  TopKRouter,
} from './router.js';
export type { RoutingStats } from './routing-stats.js';
export { selectExperts } from './select-experts.js';
export { updateSelectionBias } from './selection-bias.js';
