import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as T from '@tessera/tensor-webgpu';
import { DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { llamaConfig } from './hf-config.js';
import { type ModelState, readModel, readTokenizer } from './load.js';
import { FILES, readCheckpoint } from './run-folder.js';
import { huggingFaceFiles } from './save-checkpoint.js';
import { micro } from './test-utils/fixtures.js';

// The config and the weights are checked against Llama's schema as transformers defines it
// (below), and against a checkpoint transformers actually loaded (`fixtures/hf-load`, last test):
// `LlamaConfig.__init__`'s arguments and their types (models/llama/configuration_llama.py) …
const LLAMA_CONFIG: Record<
  string,
  'int' | 'float' | 'bool' | 'string' | 'int|null' | 'object|null'
> = {
  vocab_size: 'int',
  hidden_size: 'int',
  intermediate_size: 'int',
  num_hidden_layers: 'int',
  num_attention_heads: 'int',
  num_key_value_heads: 'int',
  head_dim: 'int',
  hidden_act: 'string',
  max_position_embeddings: 'int',
  initializer_range: 'float',
  rms_norm_eps: 'float',
  use_cache: 'bool',
  bos_token_id: 'int|null',
  eos_token_id: 'int|null',
  tie_word_embeddings: 'bool',
  rope_theta: 'float',
  rope_scaling: 'object|null',
  attention_bias: 'bool',
  attention_dropout: 'float',
  mlp_bias: 'bool',
};
// … and the parameters `LlamaForCausalLM(config)` holds, by name and shape (models/llama/modeling_llama.py);
// with tie_word_embeddings, `lm_head.weight` is the embedding and is not stored.
function llamaParameters(config: Record<string, unknown>): Record<string, number[]> {
  type Sizes =
    | 'vocab_size'
    | 'hidden_size'
    | 'intermediate_size'
    | 'head_dim'
    | 'num_hidden_layers';
  type Heads = 'num_attention_heads' | 'num_key_value_heads';
  const c = config as Record<Sizes | Heads, number> & { tie_word_embeddings: boolean };
  const [d, f, hd] = [c.hidden_size, c.intermediate_size, c.head_dim];
  const p: Record<string, number[]> = {
    'model.embed_tokens.weight': [c.vocab_size, d],
    'model.norm.weight': [d],
  };
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `model.layers.${i}`;
    Object.assign(p, {
      [`${l}.self_attn.q_proj.weight`]: [c.num_attention_heads * hd, d],
      [`${l}.self_attn.k_proj.weight`]: [c.num_key_value_heads * hd, d],
      [`${l}.self_attn.v_proj.weight`]: [c.num_key_value_heads * hd, d],
      [`${l}.self_attn.o_proj.weight`]: [d, c.num_attention_heads * hd],
      [`${l}.mlp.gate_proj.weight`]: [f, d],
      [`${l}.mlp.up_proj.weight`]: [f, d],
      [`${l}.mlp.down_proj.weight`]: [d, f],
      [`${l}.input_layernorm.weight`]: [d],
      [`${l}.post_attention_layernorm.weight`]: [d],
    });
  }
  if (!c.tie_word_embeddings) p['lm_head.weight'] = [c.vocab_size, d];
  return p;
}

const typeOf = (v: unknown) =>
  v === null
    ? 'null'
    : Number.isInteger(v)
      ? 'int'
      : typeof v === 'number'
        ? 'float'
        : typeof v === 'boolean'
          ? 'bool'
          : typeof v;

describe('llamaConfig', () => {
  for (const tied of [true, false])
    it(`fits LlamaConfig, and the weights are LlamaForCausalLM's by name and shape (tied embeddings: ${tied})`, async () => {
      const device = await T.createDevice({ backend: 'cpu' });
      const model = new DecoderLM({ ...micro.model, vocabSize: 300, tiedEmbeddings: tied }, device);
      const hf = llamaConfig(model.config, { bos: 299, eos: 299 });
      expect(hf).toMatchObject({
        architectures: ['LlamaForCausalLM'],
        model_type: 'llama',
        torch_dtype: 'float32',
      });
      for (const [key, type] of Object.entries(LLAMA_CONFIG)) {
        expect(hf, key).toHaveProperty(key);
        const actual = typeOf(hf[key]);
        expect(
          type.split('|').includes(actual) || (type === 'float' && actual === 'int'),
          `${key}: ${actual}`,
        ).toBe(true);
      }
      const extra = Object.keys(hf).filter((k) => !(k in LLAMA_CONFIG));
      expect(extra.sort()).toEqual(['architectures', 'model_type', 'torch_dtype']);
      const header = T.readSafetensorsHeader(await model.save());
      const shapes = Object.fromEntries(
        Object.entries(header.tensors).map(([n, e]) => [n, e.shape]),
      );
      expect(shapes).toEqual(llamaParameters(hf));
      expect(hf).toMatchObject({
        hidden_act: 'silu',
        rms_norm_eps: 1e-6,
        rope_theta: 10_000,
        tie_word_embeddings: tied,
      });
    });

  it('refuses a model that is not Llama-shaped, naming the field', async () => {
    const device = await T.createDevice({ backend: 'cpu' });
    const gelu = new DecoderLM({ ...micro.model, vocabSize: 300, ffn: 'gelu' }, device);
    expect(() => llamaConfig(gelu.config)).toThrow(
      "llamaConfig: the model is not Llama-shaped (ffn is gelu, Llama's MLP is swiglu)",
    );
  });
});

// A checkpoint the app wrote (fixtures/hf-load/make-checkpoint.ts) and what transformers made of it
// (make_hf_logits.py: `LlamaForCausalLM.from_pretrained` and `AutoTokenizer.from_pretrained` on
// its step folder), committed so that this runs where transformers is not installed.
const HF_LOAD = fileURLToPath(new URL('../fixtures/hf-load/', import.meta.url));
const expected = JSON.parse(readFileSync(`${HF_LOAD}expected.json`, 'utf8')) as {
  config: Record<string, unknown>;
  rope_parameters: { rope_theta: number; rope_type: string };
  dtype: string;
  text: string;
  ids: number[];
  logits: number[][];
};

describe('a checkpoint transformers loaded (fixtures/hf-load)', () => {
  it('Tessera writes the config transformers read, the same token ids and the same logits', async () => {
    const device = await T.createDevice({ backend: 'cpu' });
    const ckpt = readCheckpoint<ModelState>(`${HF_LOAD}run`);
    const model = readModel(ckpt, device);
    const tokenizer = readTokenizer(ckpt, model.vocabSize);
    const eos = tokenizer.specialTokens['<|endoftext|>'];
    // The config.json Tessera writes today is the one in the fixture, byte for byte …
    const files = huggingFaceFiles(tokenizer, llamaConfig(model.config, { bos: eos, eos }));
    expect(files[FILES.hfConfig]).toBe(ckpt.read(FILES.hfConfig).toString());
    // … and every field transformers read from it has the value Tessera meant.
    const written = JSON.parse(files[FILES.hfConfig]!);
    expect(Object.keys(expected.config).length).toBeGreaterThan(15);
    for (const [key, value] of Object.entries(expected.config))
      expect(written[key], key).toEqual(value);
    expect(expected.rope_parameters).toEqual({
      rope_theta: written.rope_theta,
      rope_type: 'default',
    });
    expect(expected.dtype).toBe(`torch.${written.torch_dtype}`);
    // The Hugging Face tokenizer read from tokenizer.json gives Tessera's ids.
    expect(tokenizer.encode(expected.text)).toEqual(expected.ids);
    // Logits [T, V] as LlamaForCausalLM computes them.
    model.eval();
    const ids = T.tensor(Int32Array.from(expected.ids), {
      shape: [1, expected.ids.length],
      device,
    });
    const logits = await T.noGrad(() => model.forward(ids)).data();
    const vocab = model.vocabSize;
    expect(expected.logits).toHaveLength(expected.ids.length);
    let worst = 0;
    expected.logits.forEach((row, t) => {
      expect(row).toHaveLength(vocab);
      row.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - logits[t * vocab + i]!));
      });
    });
    expect(worst).toBeLessThan(1e-5); // 1.2e-7 measured
  });
});
