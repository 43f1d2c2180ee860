import { basename, resolve } from 'node:path';
import type { CausalLM } from '@tessera/sampler';
import type { Device } from '@tessera/tensor-webgpu';
import type { Tokenizer } from '@tessera/tokenizer';
import { loadCheckpoint } from '../load.js';
import { FILES, readCheckpoint } from '../run-folder.js';
import { type ChatFormat, chatFormatOf } from './chat-format.js';
import { Engine, type EngineOptions } from './engine.js';

/** A model the server answers for: its checkpoint, tokenizer, chat format and scheduler. */
export interface ServedModel {
  /** The name clients ask for (`model` in requests). */
  name: string;
  /** The run folder it was loaded from. */
  dir: string;
  /** The training step of the checkpoint. */
  step: number;
  /**
   * SHA-256 (hex) of the checkpoint's weights, as its `tessera.json` records them; undefined for
   * a model not loaded from a run folder. `GET /v1/models` shows it, so that a client can tell
   * which checkpoint answers (the pipeline's judge check).
   */
  weights?: string;
  /** Unix seconds when it was loaded (`created` in `/v1/models`). */
  created: number;
  tokenizer: Tokenizer;
  format: ChatFormat;
  engine: Engine;
  /** UTF-8 of each token; undefined for special tokens (constrained decoding never emits them). */
  vocabulary: readonly (Uint8Array | undefined)[];
}

/** A `--model` argument: `name=dir`, or a run folder named by its last path component. */
export function parseModelSpec(spec: string): { name: string; dir: string } {
  const at = spec.indexOf('=');
  const dir = at > 0 ? spec.slice(at + 1) : spec;
  const name = at > 0 ? spec.slice(0, at) : basename(resolve(dir));
  if (!name || !dir) throw new Error(`--model ${JSON.stringify(spec)}: expected NAME=DIR or DIR`);
  return { name, dir };
}

/**
 * A model ready to serve: its chat format, its vocabulary's bytes, and a started engine. `step`
 * is the checkpoint's training step (0 for a model that has none), `weights` its weights'
 * SHA-256 where it has one.
 */
export async function serveModel(
  spec: { name: string; dir: string; step: number; weights?: string },
  model: CausalLM,
  tokenizer: Tokenizer,
  engine: EngineOptions,
): Promise<ServedModel> {
  const specials = new Set(Object.values(tokenizer.specialTokens));
  return {
    ...spec,
    created: Math.floor(Date.now() / 1000),
    tokenizer,
    format: chatFormatOf(tokenizer),
    engine: await Engine.start(model, engine),
    vocabulary: Array.from({ length: tokenizer.vocabSize }, (_, id) =>
      specials.has(id) ? undefined : tokenizer.tokenBytes(id),
    ),
  };
}

/**
 * Loads a run folder's current checkpoint (any stage that writes the run folder: pretrain, sft,
 * dpo, ppo, grpo) and starts its engine. Errors name the file, as `loadCheckpoint`'s do.
 */
export async function loadServedModel(
  spec: { name: string; dir: string },
  device: Device,
  engine: EngineOptions,
): Promise<ServedModel> {
  const { model, tokenizer } = loadCheckpoint(spec.dir, device);
  const { step, files } = readCheckpoint(spec.dir).state;
  return serveModel({ ...spec, step, weights: files[FILES.model] }, model, tokenizer, engine);
}
