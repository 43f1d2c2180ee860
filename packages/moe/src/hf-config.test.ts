import { readFileSync } from 'node:fs';
import { huggingFaceMoEConfig, MoE } from '@tessera/moe';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';

const hf = JSON.parse(
  readFileSync(new URL('../fixtures/hf-config-keys.json', import.meta.url), 'utf8'),
) as Record<'mixtral' | 'deepseek_v3' | 'switch_transformers', string[]>;

const { cpu } = await testDevices();

/** Keys of DeepSeek-V3's original configuration code that transformers' class leaves out. */
const DEEPSEEK_ORIGINAL = ['scoring_func', 'topk_method'];
/** Keys this package writes for what no Hugging Face config says. */
const OURS = ['capacity_factor', 'bias_update_speed'];

describe('huggingFaceMoEConfig', () => {
  it("writes Mixtral's keys for a Mixtral-style layer, in Hugging Face's normalisation", () => {
    const layer = new MoE({ dim: 8, hidden: 6, experts: 4, topK: 2, device: cpu });
    expect(huggingFaceMoEConfig(layer)).toEqual({
      num_local_experts: 4,
      num_experts_per_tok: 2,
      router_aux_loss_coef: 0.005, // 0.01 here is 0.005 against Hugging Face's k-times-larger loss
      router_z_loss_coef: 0.001,
      router_jitter_noise: 0,
      output_router_logits: false,
      n_routed_experts: 4,
      n_shared_experts: 0,
      moe_intermediate_size: 6,
      routed_scaling_factor: 1,
      norm_topk_prob: true,
      scoring_func: 'softmax',
      topk_method: 'greedy',
      n_group: 1,
      topk_group: 1,
      first_k_dense_replace: 0,
      hidden_act: 'silu',
      capacity_factor: null,
      bias_update_speed: 0,
    });
  });

  it("writes DeepSeek-V3's choices: sigmoid, shared experts, selection bias, scale", () => {
    const layer = new MoE({
      dim: 8,
      hidden: 3,
      experts: 8,
      topK: 3,
      scoring: 'sigmoid',
      routedScale: 2.5,
      sharedExperts: 1,
      biasUpdateRate: 0.001,
      capacityFactor: 1.25,
      expert: 'gelu',
      device: cpu,
    });
    expect(huggingFaceMoEConfig(layer)).toMatchObject({
      n_routed_experts: 8,
      num_experts_per_tok: 3,
      n_shared_experts: 1,
      moe_intermediate_size: 3,
      routed_scaling_factor: 2.5,
      scoring_func: 'sigmoid',
      topk_method: 'noaux_tc',
      router_aux_loss_coef: 0, // aux-free: no balance loss by default
      hidden_act: 'gelu',
      capacity_factor: 1.25,
      bias_update_speed: 0.001,
    });
  });

  it("uses only the field names of transformers' Mixtral, DeepSeek-V3 and Switch configs, and ours", () => {
    const layer = new MoE({ dim: 8, hidden: 6, experts: 4, topK: 2, device: cpu });
    const known = new Set([
      ...hf.mixtral,
      ...hf.deepseek_v3,
      ...hf.switch_transformers,
      ...DEEPSEEK_ORIGINAL,
      ...OURS,
    ]);
    expect(Object.keys(huggingFaceMoEConfig(layer)).filter((k) => !known.has(k))).toEqual([]);
  });
});
