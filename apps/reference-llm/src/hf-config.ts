import type { ResolvedConfig } from '@tessera/transformer';

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
