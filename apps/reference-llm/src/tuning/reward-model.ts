import { join } from 'node:path';
import { Module } from '@tessera/nn';
import type { ScalarModel } from '@tessera/rlhf';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import {
  type DecoderLM,
  type ResolvedConfig,
  ScalarHead,
  type TransformerConfig,
  Trunk,
} from '@tessera/transformer';
import { firstNonFinite } from '../finite.js';
import { llamaConfig } from '../hf-config.js';
import type { ModelState } from '../load.js';
import { type Checkpoint, FILES, fileError } from '../run-folder.js';

/**
 * A reward (or value) model: the transformer trunk of a language model with a scalar head
 * instead of the LM head — Hugging Face's `LlamaForSequenceClassification` with one label, and
 * its parameter names (`model.*`, `score.weight`). `forward` scores every prefix; a sequence's
 * reward is the score at its last real token (`@tessera/rlhf`'s `sequenceScores`).
 */
export class RewardModel extends Module implements ScalarModel {
  model: Trunk;
  score: ScalarHead;
  readonly config: ResolvedConfig;

  constructor(
    config: TransformerConfig,
    readonly device: Device,
    seed = 0,
  ) {
    super();
    this.model = new Trunk(config, { causal: true }, device);
    this.config = this.model.config;
    this.score = new ScalarHead(this.config.dModel, { device, seed });
  }

  /** A reward model on the trunk of `lm` (its weights copied) with a new head from `seed`. */
  static fromLanguageModel(lm: DecoderLM, seed: number): RewardModel {
    const rm = new RewardModel(lm.config, lm.device, seed);
    const trunk = Object.fromEntries(
      Object.entries(lm.stateDict())
        .filter(([name]) => name.startsWith('model.'))
        .map(([name, t]) => [name.slice('model.'.length), t]),
    );
    rm.model.loadStateDict(trunk);
    return rm;
  }

  /** ids i32 [B, T] → scores f32 [B, T]. */
  forward(ids: Tensor): Tensor {
    return this.score.forward(this.model.forward(this.model.embed(ids)));
  }

  override dispose(): void {
    this.model.dispose();
    super.dispose();
  }
}

/** Hugging Face's `LlamaForSequenceClassification` config for a reward model (one label). */
export function rewardModelConfig(c: ResolvedConfig, padId: number): Record<string, unknown> {
  return {
    ...llamaConfig(c),
    architectures: ['LlamaForSequenceClassification'],
    num_labels: 1,
    id2label: { 0: 'LABEL_0' },
    label2id: { LABEL_0: 0 },
    pad_token_id: padId,
  };
}

/**
 * The reward model of a checkpoint `reward` wrote (or a file of the same layout): built from
 * `tessera.json`'s model config, weights from `file` checked finite. A checkpoint of another model
 * (a language model, another shape) is refused with the tensors that do not match.
 */
export function readRewardModel(
  ckpt: Checkpoint<ModelState>,
  device: Device,
  file: string = FILES.model,
): RewardModel {
  const config = ckpt.state.model;
  if (config === null || typeof config !== 'object')
    throw fileError(ckpt.stateFile, 'field "model" is missing: the model config');
  const rm = new RewardModel(config, device);
  const path = join(ckpt.folder, file);
  const bytes = new Uint8Array(ckpt.read(file));
  try {
    rm.load(bytes, { name: path });
  } catch (e) {
    throw fileError(path, `is not a reward model of this shape (${(e as Error).message})`);
  }
  const bad = firstNonFinite(bytes);
  if (bad) throw fileError(path, `the weights are not finite (tensor ${bad})`);
  return rm;
}
