import type { MoE } from './moe.js';

/**
 * The fields of a Hugging Face model config that describe a mixture-of-experts layer, read from
 * a built `MoE` (so every default is the one the layer uses), for a checkpoint's `config.json`.
 * Hugging Face spells the same facts in two families, and both are written:
 *
 * - Mixtral (`configuration_mixtral.py`): `num_local_experts`, `num_experts_per_tok`,
 *   `router_aux_loss_coef`, `router_jitter_noise`, `output_router_logits`;
 * - DeepSeek-V3 (`configuration_deepseek_v3.py`, and the `scoring_func` / `topk_method` of its
 *   original code): `n_routed_experts`, `n_shared_experts`, `moe_intermediate_size`,
 *   `routed_scaling_factor`, `norm_topk_prob`, `scoring_func`, `topk_method` (`noaux_tc` with
 *   the selection bias, `greedy` without), `n_group` and `topk_group` (1: no group-limited
 *   routing), `first_k_dense_replace` (0: every block is a mixture);
 * - the router z-loss weight as Switch Transformers' `router_z_loss_coef`.
 *
 * `router_aux_loss_coef` is in Hugging Face's normalisation, whose balance loss is k times this
 * package's (see `loadBalancingLoss`): `loadBalanceCoef / k`. What Hugging Face has no key for is
 * written under this package's names: `capacity_factor` (null when dropless) and
 * `bias_update_speed` (DeepSeek-V3's γ; 0 without auxiliary-loss-free balancing).
 * `hidden_act` is the experts' activation (`silu` for SwiGLU experts, `gelu`).
 */
export function huggingFaceMoEConfig(layer: MoE): Record<string, unknown> {
  const { gate, experts, topK } = layer;
  return {
    num_local_experts: experts.count,
    num_experts_per_tok: topK,
    router_aux_loss_coef: layer.loadBalanceCoef / topK,
    router_z_loss_coef: layer.zLossCoef,
    router_jitter_noise: gate.jitter,
    output_router_logits: false,
    n_routed_experts: experts.count,
    n_shared_experts: layer.sharedExperts,
    moe_intermediate_size: experts.hidden,
    routed_scaling_factor: gate.scale,
    norm_topk_prob: gate.normalize,
    scoring_func: gate.scoring,
    topk_method: gate.e_score_correction_bias ? 'noaux_tc' : 'greedy',
    n_group: 1,
    topk_group: 1,
    first_k_dense_replace: 0,
    hidden_act: experts.kind === 'swiglu' ? 'silu' : 'gelu',
    capacity_factor: layer.capacityFactor ?? null,
    bias_update_speed: layer.biasUpdateRate,
  };
}
