import { join } from 'node:path';
import { type GenerateStreamOptions, generateText } from '@tessera/sampler';
import type { Device } from '@tessera/tensor-webgpu';
import { fromHuggingFaceJson, type Tokenizer } from '@tessera/tokenizer';
import { DecoderLM, type TransformerConfig } from '@tessera/transformer';
import { firstNonFinite, withFiniteLogits } from './finite.js';
import {
  type Checkpoint,
  type CheckpointStateBase,
  FILES,
  fileError,
  readCheckpoint,
} from './run-folder.js';

/** What every stage's `tessera.json` holds about the model. */
export interface ModelState extends CheckpointStateBase {
  model: TransformerConfig;
}

/**
 * The tokenizer of a checkpoint, checked against the model: it must be the file saved with the
 * checkpoint (its fingerprint) and have exactly the model's vocabulary size.
 */
export function readTokenizer(ckpt: Checkpoint<ModelState>, vocabSize: number): Tokenizer {
  const path = join(ckpt.folder, FILES.tokenizer);
  let tokenizer: Tokenizer;
  try {
    tokenizer = fromHuggingFaceJson(ckpt.read(FILES.tokenizer).toString('utf8')) as Tokenizer;
  } catch (e) {
    const message = (e as Error).message;
    throw message.startsWith(path) ? e : fileError(path, message);
  }
  if (tokenizer.vocabSize !== vocabSize)
    throw fileError(
      path,
      `has ${tokenizer.vocabSize} tokens, the model ${vocabSize} (${FILES.state} field model.vocabSize): not this model's tokenizer`,
    );
  return tokenizer;
}

/**
 * Stages whose checkpoints hold a model that is not a left-to-right language model, with what
 * to use instead: their weights share the decoder's names, so without this check they would load
 * and give wrong answers.
 */
const NOT_CAUSAL: Record<string, string> = {
  dllm: 'a masked diffusion LM (use dllm generate, dllm eval or dllm tasks)',
  reward: "a reward model (use it as ppo's --reward)",
  vit: 'a Vision Transformer (use vit predict, or vit caption --vit)',
};

/**
 * The model of a checkpoint: built from `tessera.json`'s `model` field, weights loaded and
 * checked finite. Errors name the file (and the tensor or field); a checkpoint of a stage that
 * is not a left-to-right language model (`dllm`, `reward`, `vit`) is refused, naming it.
 */
export function readModel(ckpt: Checkpoint<ModelState>, device?: Device): DecoderLM {
  const stage = (ckpt.state as { stage?: unknown }).stage;
  const other = typeof stage === 'string' ? NOT_CAUSAL[stage] : undefined;
  if (other)
    throw fileError(
      ckpt.stateFile,
      `field "stage" is "${stage}": the checkpoint holds ${other}, not a left-to-right language model`,
    );
  const config = ckpt.state.model;
  if (config === null || typeof config !== 'object')
    throw fileError(ckpt.stateFile, 'field "model" is missing: the model config');
  let model: DecoderLM;
  try {
    model = new DecoderLM(config, device);
  } catch (e) {
    throw fileError(
      ckpt.stateFile,
      `field "model" is not a valid config (${(e as Error).message})`,
    );
  }
  loadWeights(ckpt, model);
  return model;
}

/**
 * Loads a checkpoint's weights (`model.safetensors`) into `model`, checked finite. Errors name
 * the file: corrupt or not matching the config, or the first tensor that is not finite.
 */
export function loadWeights(
  ckpt: Checkpoint<CheckpointStateBase>,
  model: { load(bytes: Uint8Array): void },
): void {
  const path = join(ckpt.folder, FILES.model);
  const bytes = new Uint8Array(ckpt.read(FILES.model));
  try {
    model.load(bytes);
  } catch (e) {
    throw fileError(path, `is corrupt or does not match the config (${(e as Error).message})`);
  }
  const bad = firstNonFinite(bytes);
  if (bad) throw fileError(path, `the checkpoint's weights are not finite (tensor ${bad})`);
}

/** A trained model (in eval mode) and its tokenizer, from a run folder's current checkpoint. */
export function loadCheckpoint(
  dir: string,
  device?: Device,
): { model: DecoderLM; tokenizer: Tokenizer } {
  const ckpt = readCheckpoint<ModelState>(dir);
  const model = readModel(ckpt, device);
  model.eval();
  return { model, tokenizer: readTokenizer(ckpt, model.vocabSize) };
}

/**
 * Streams a completion of `prompt` from a checkpoint, calling `onText` with each piece.
 *
 * @throws Error - the model's logits are not finite (`nonFiniteLogitsError`), naming `dir`
 */
export async function complete(
  dir: string,
  prompt: string,
  options: GenerateStreamOptions & { onText?: (s: string) => void; device?: Device },
): Promise<string> {
  const { device, ...generateOptions } = options;
  const { model, tokenizer } = loadCheckpoint(dir, device);
  return withFiniteLogits(dir, () => generateText(model, tokenizer, prompt, generateOptions));
}
