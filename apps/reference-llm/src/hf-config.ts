import { huggingFaceMoEConfig, MoE } from '@tessera/moe';
import type { DecoderLM, ResolvedConfig } from '@tessera/transformer';

/**
 * Hugging Face `LlamaConfig` fields (transformers' `configuration_llama.py`) for a decoder, so
 * that `LlamaForCausalLM.from_pretrained(folder)` opens a checkpoint folder: the weights already
 * carry Llama's parameter names. Only Llama-shaped models have one: SwiGLU MLP, RMSNorm, RoPE in
 * the rotate-half convention, no scaling. Throws naming the field otherwise.
 */
export function llamaConfig(
  c: ResolvedConfig,
  specialTokens: { bos?: number; eos?: number } = {},
): Record<string, unknown> {
  const unsupported: [boolean, string][] = [
    [c.ffn !== 'swiglu', `ffn is ${c.ffn}, Llama's MLP is swiglu`],
    [c.norm !== 'rms', `norm is ${c.norm}, Llama's is rms`],
    [c.rope.convention !== 'half', `rope.convention is ${c.rope.convention}, Llama's is half`],
    [c.rope.scaling !== undefined, 'rope.scaling is set; the export writes none'],
  ];
  for (const [bad, why] of unsupported)
    if (bad) throw new Error(`llamaConfig: the model is not Llama-shaped (${why})`);
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.dModel,
    intermediate_size: c.ffnHidden,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.kvHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    max_position_embeddings: c.maxSeqLen,
    initializer_range: c.initStd,
    rms_norm_eps: c.normEps,
    rope_theta: c.rope.theta,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0,
    mlp_bias: false,
    tie_word_embeddings: c.tiedEmbeddings,
    bos_token_id: specialTokens.bos ?? null,
    eos_token_id: specialTokens.eos ?? null,
    torch_dtype: 'float32',
    use_cache: true,
  };
}

/**
 * `config.json` of a decoder: `llamaConfig` for a dense Llama-shaped model; for a mixture of
 * experts (`ffn: 'moe'`), Llama's fields for everything but the FFN plus `@tessera/moe`'s
 * `huggingFaceMoEConfig` keys (Mixtral's and DeepSeek-V3's names), and no `architectures` or
 * `model_type`: transformers has no class that pairs Llama's attention with these stacked
 * experts, so `from_pretrained` refuses the folder rather than loading half its weights.
 * Throws as `llamaConfig` for other shapes.
 */
export function decoderConfig(
  model: DecoderLM,
  specialTokens: { bos?: number; eos?: number } = {},
): Record<string, unknown> {
  const c = model.config;
  if (c.ffn !== 'moe') return llamaConfig(c, specialTokens);
  const {
    architectures: _,
    model_type: __,
    intermediate_size: ___,
    ...rest
  } = llamaConfig({ ...c, ffn: 'swiglu' }, specialTokens);
  const layer = model.model.layers[0]!.mlp;
  if (!(layer instanceof MoE)) throw new Error("decoderConfig: ffn is 'moe' but layer 0 is no MoE");
  return { ...rest, ...huggingFaceMoEConfig(layer) };
}
