import { applyLoRA, Linear, LoRALinear } from '@tessera/nn';
import * as T from '@tessera/tensor-webgpu';
import type { DecoderLM } from '@tessera/transformer';

/**
 * LoRA for the tuned models (`@tessera/nn`'s `LoRALinear`), with adapters saved in the layout
 * Hugging Face PEFT reads (`adapter_model.safetensors` + `adapter_config.json`). Because `sft`
 * grows the vocabulary by the two chat tokens, the (tied) embedding trains too, as PEFT's
 * `modules_to_save: ["embed_tokens"]` with `ensure_weight_tying: true` does; the adapter file
 * then holds it under both its names, as PEFT saves it.
 */
export const LORA_TARGETS = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
] as const;

export interface LoraSettings {
  /** Rank r of each update B·A. */
  rank: number;
  /** The update is scaled by alpha / rank. */
  alpha: number;
  /** Dropout on each adapter's input while training. */
  dropout: number;
  /** Names of the Linear layers to adapt (the last part of their names, as PEFT's `target_modules`). */
  targets: readonly string[];
}

const PREFIX = 'base_model.model.';
const EMBEDDING = 'model.embed_tokens.weight';

/** The model's LoRA layers by their Hugging Face name (`model.layers.0.self_attn.q_proj`). */
export function loraLayers(model: DecoderLM): [string, LoRALinear][] {
  return model.namedModules().filter((e): e is [string, LoRALinear] => e[1] instanceof LoRALinear);
}

/**
 * Wraps the model's target Linear layers in LoRA adapters (seeded) and freezes every other
 * weight except the token embedding. Returns the adapted layers' names.
 *
 * @throws RangeError - a rank larger than a target layer allows (min of its input and output
 *   width), naming the layer; a target that names no layer
 */
export function addLora(model: DecoderLM, s: LoraSettings, seed: number): string[] {
  const targetOf = (name: string) => s.targets.includes(name.split('.').at(-1)!);
  for (const target of s.targets)
    if (
      !model.namedModules().some(([name, m]) => m instanceof Linear && name.endsWith(`.${target}`))
    )
      throw new RangeError(
        `--lora-targets: no layer is named ${JSON.stringify(target)}; the model's are ${LORA_TARGETS.join(', ')}`,
      );
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof Linear) || !targetOf(name)) continue;
    const limit = Math.min(m.inFeatures, m.outFeatures);
    if (s.rank > limit)
      throw new RangeError(
        `--lora-rank ${s.rank} is larger than layer ${name} allows (${m.inFeatures} → ${m.outFeatures}: rank at most ${limit})`,
      );
  }
  T.manualSeed(seed); // each adapter's A draws its own seed from here
  const wrapped = applyLoRA(model, {
    rank: s.rank,
    alpha: s.alpha,
    dropout: s.dropout,
    target: targetOf,
  });
  model.model.embed_tokens!.weight.requiresGrad = true;
  return wrapped;
}

/**
 * The model's weights with each adapter merged in (W + (α/r)·B·A) under the plain Hugging Face
 * names: what a full checkpoint of the tuned model holds. New tensors for the merged layers (run
 * inside `tidy`), the model's own for the rest; the model is unchanged.
 */
export function mergedWeights(model: DecoderLM): Record<string, T.Tensor> {
  const out: Record<string, T.Tensor> = {};
  const adapted = new Set(loraLayers(model).map(([name]) => name));
  for (const [name, t] of Object.entries(model.stateDict())) {
    const layer = name.replace(/\.(base\.weight|lora_A|lora_B)$/, '');
    if (!adapted.has(layer) || name.endsWith('.base.weight'))
      out[name.replace('.base.weight', '.weight')] = t;
  }
  for (const [name, layer] of loraLayers(model))
    out[`${name}.weight`] = T.noGrad(() => T.add(layer.base.weight, layer.delta()));
  return out;
}

/** `adapter_model.safetensors` and `adapter_config.json` of the model's adapters (PEFT 0.21 layout). */
export async function adapterFiles(
  model: DecoderLM,
  s: LoraSettings,
  base: string,
): Promise<Record<string, Uint8Array | string>> {
  const tensors: Record<string, T.Tensor> = {};
  for (const [name, layer] of loraLayers(model)) {
    tensors[`${PREFIX}${name}.lora_A.weight`] = layer.lora_A;
    tensors[`${PREFIX}${name}.lora_B.weight`] = layer.lora_B;
  }
  const embedding = model.model.embed_tokens!.weight;
  tensors[`${PREFIX}${EMBEDDING}`] = embedding;
  if (model.config.tiedEmbeddings) tensors[`${PREFIX}lm_head.weight`] = embedding;
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: base,
    r: s.rank,
    lora_alpha: s.alpha,
    lora_dropout: s.dropout,
    target_modules: [...s.targets],
    modules_to_save: ['embed_tokens'],
    ensure_weight_tying: model.config.tiedEmbeddings,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    use_rslora: false,
    use_dora: false,
  };
  return {
    'adapter_model.safetensors': await T.saveSafetensors(tensors),
    'adapter_config.json': `${JSON.stringify(config, null, 1)}\n`,
  };
}

/**
 * Loads PEFT adapter weights into a model that has the same adapters (`addLora`). Throws naming
 * the tensors that are missing, unexpected, or of another shape.
 */
export function loadAdapter(model: DecoderLM, bytes: Uint8Array, file: string): void {
  const tensors = T.loadSafetensors(bytes, { device: model.device, name: file });
  try {
    const own: Record<string, T.Tensor> = {
      [`${PREFIX}${EMBEDDING}`]: model.model.embed_tokens!.weight,
    };
    for (const [name, layer] of loraLayers(model)) {
      own[`${PREFIX}${name}.lora_A.weight`] = layer.lora_A;
      own[`${PREFIX}${name}.lora_B.weight`] = layer.lora_B;
    }
    const extra = model.config.tiedEmbeddings ? [`${PREFIX}lm_head.weight`] : [];
    const missing = Object.keys(own).filter((k) => !(k in tensors));
    const unexpected = Object.keys(tensors).filter((k) => !(k in own) && !extra.includes(k));
    if (missing.length || unexpected.length)
      throw new Error(
        `${file}: not this model's adapter (${[
          missing.length ? `missing ${missing.join(', ')}` : '',
          unexpected.length ? `unexpected ${unexpected.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; ')})`,
      );
    for (const [name, target] of Object.entries(own)) {
      const source = tensors[name]!;
      if (source.shape.join() !== target.shape.join())
        throw new Error(
          `${file}: ${name} has shape [${source.shape.join(', ')}], the model's adapter [${target.shape.join(', ')}]`,
        );
      T.noGrad(() => target.copy_(source));
    }
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}
