import { readFileSync } from 'node:fs';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { resizeVocabulary } from './chat-format.js';
import {
  adapterFiles,
  addLora,
  LORA_TARGETS,
  loadAdapter,
  loraLayers,
  mergedWeights,
} from './lora.js';

// fixtures/peft/make_peft_fixture.py: a one-layer Llama and a LoRA adapter written by PEFT 0.21.
const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/peft/${name}`, import.meta.url)));
const expected = JSON.parse(new TextDecoder().decode(fixture('expected.json')));
const peftConfig = JSON.parse(new TextDecoder().decode(fixture('adapter/adapter_config.json')));
const settings = { rank: 4, alpha: 8, dropout: 0, targets: LORA_TARGETS };
const config = {
  vocabSize: 300,
  dModel: 16,
  layers: 1,
  heads: 2,
  kvHeads: 1,
  ffnHidden: 64,
  maxSeqLen: 16,
  normEps: 1e-6,
  tiedEmbeddings: true,
};

/** The fixture's base model, its vocabulary grown to 302, with LoRA on every projection. */
function adapted(): DecoderLM {
  const base = new DecoderLM(config, device);
  base.load(fixture('base.safetensors'));
  const model = resizeVocabulary(base, 302);
  addLora(model, settings, 1);
  return model.eval();
}
const logits = async (model: DecoderLM) =>
  model.forward(T.tensor([expected.ids], { dtype: 'i32', device })).data();

describe('LoRA adapters in the PEFT layout', () => {
  it('a PEFT adapter loads and gives PEFT’s logits; merged weights give merge_and_unload’s', async () => {
    const model = adapted();
    loadAdapter(model, fixture('adapter/adapter_model.safetensors'), 'adapter_model.safetensors');
    expect(maxRelError(await logits(model), expected.logits)).toBeLessThan(1e-4);
    const merged = new DecoderLM({ ...config, vocabSize: 302 }, device);
    merged.loadStateDict(T.tidy(() => mergedWeights(model)));
    expect(maxRelError(await logits(merged), expected.mergedLogits)).toBeLessThan(1e-4);
  });

  it('writes the tensors PEFT writes, under the same names and shapes, and the config PEFT reads', async () => {
    const model = adapted();
    const files = await adapterFiles(model, settings, 'runs/tiny/checkpoints/step-000678');
    const shapes = (bytes: Uint8Array) =>
      Object.fromEntries(
        Object.entries(T.readSafetensorsHeader(bytes).tensors).map(([k, v]) => [k, v.shape]),
      );
    expect(shapes(files['adapter_model.safetensors'] as Uint8Array)).toEqual(
      shapes(fixture('adapter/adapter_model.safetensors')),
    );
    const ours = JSON.parse(files['adapter_config.json'] as string);
    for (const key of [
      'peft_type',
      'task_type',
      'r',
      'lora_alpha',
      'lora_dropout',
      'ensure_weight_tying',
      'bias',
      'fan_in_fan_out',
    ])
      expect(ours[key], key).toEqual(peftConfig[key]);
    expect([...ours.target_modules].sort()).toEqual([...peftConfig.target_modules].sort());
    expect(peftConfig.modules_to_save).toContain(ours.modules_to_save[0]);
    // And they load back into a fresh adapted model.
    const again = adapted();
    loadAdapter(
      again,
      files['adapter_model.safetensors'] as Uint8Array,
      'adapter_model.safetensors',
    );
    expect(maxRelError(await logits(again), await logits(model))).toBeLessThan(1e-6);
  });

  it('trains only the adapters and the embedding; a rank larger than a layer is refused, naming it', () => {
    const model = adapted();
    expect(loraLayers(model).map(([n]) => n)).toHaveLength(7);
    const trainable = model
      .namedParameters()
      .filter(([, p]) => p.requiresGrad)
      .map(([n]) => n);
    expect(trainable).toContain('model.embed_tokens.weight');
    expect(trainable.filter((n) => !/lora_[AB]$/.test(n))).toEqual(['model.embed_tokens.weight']);
    const plain = new DecoderLM(config, device);
    expect(() => addLora(plain, { ...settings, rank: 9 }, 1)).toThrow(
      '--lora-rank 9 is larger than layer model.layers.0.self_attn.k_proj allows (16 → 8: rank at most 8)',
    );
    expect(() => addLora(plain, { ...settings, targets: ['qkv'] }, 1)).toThrow(
      /no layer is named "qkv"/,
    );
  });

  it('an adapter of another model is refused with the tensors that do not match', async () => {
    const model = adapted();
    const other = new DecoderLM({ ...config, layers: 2, vocabSize: 302 }, device);
    addLora(other, settings, 1);
    const files = await adapterFiles(other, settings, 'x');
    expect(() =>
      loadAdapter(model, files['adapter_model.safetensors'] as Uint8Array, 'other.safetensors'),
    ).toThrow(
      /other\.safetensors: not this model's adapter \(unexpected .*layers\.1\.self_attn\.q_proj\.lora_A\.weight/,
    );
  });
});
