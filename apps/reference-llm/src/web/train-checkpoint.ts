/**
 * The training page's checkpoint as one safetensors file: the model's weights (`model.<name>`),
 * the optimizer's state tensors (`optimizer.<key>`), and in the metadata the run's state (step,
 * planned steps, loss history, the optimizer's step counters) and the tokenizer (Hugging Face
 * `tokenizer.json`). One file, so that one atomic write (`checkpoint-store.ts`) saves all of it.
 */
import type { Module } from '@tessera/nn';
import type { BaseOptions, Optimizer, OptimizerState } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { fromHuggingFaceJson, type Tokenizer, toHuggingFaceJson } from '@tessera/tokenizer';

/** Where a page's run stands: what the page shows before resuming. */
export interface TrainState {
  /** Optimizer steps done. */
  step: number;
  /** Steps the run was started for (its learning-rate schedule's length). */
  steps: number;
  /** The training loss of every step done, nats/token, `losses[i]` of step i + 1. */
  losses: number[];
}

/** The metadata `format` of this layout. */
const FORMAT = 'tessera-train-page/1';

const NAME = 'the training checkpoint';

/** What a checkpoint holds. */
export interface CheckpointParts {
  model: Module;
  optimizer: Optimizer<BaseOptions>;
  tokenizer: Tokenizer;
  state: TrainState;
}

/** Serialises a run (reads its tensors back: save between steps, not during one). */
export async function encodeCheckpoint(c: CheckpointParts): Promise<Uint8Array> {
  const { tensors, ...optimizer } = c.optimizer.stateDict();
  const prefixed = (prefix: string, ts: Record<string, T.Tensor>) =>
    Object.fromEntries(Object.entries(ts).map(([k, t]) => [`${prefix}${k}`, t]));
  return T.saveSafetensors(
    { ...prefixed('model.', c.model.stateDict()), ...prefixed('optimizer.', tensors) },
    {
      format: FORMAT,
      state: JSON.stringify(c.state),
      optimizer: JSON.stringify(optimizer),
      tokenizer: toHuggingFaceJson(c.tokenizer),
    },
  );
}

function metadata(bytes: Uint8Array): Record<string, string> {
  const { metadata } = T.readSafetensorsHeader(bytes, { name: NAME });
  if (metadata['format'] !== FORMAT)
    throw new Error(
      `${NAME}: metadata "format" is ${JSON.stringify(metadata['format'])}, expected "${FORMAT}"`,
    );
  return metadata;
}

/**
 * The run's state, from the file's header alone (the page reads it to offer Resume).
 *
 * @throws Error - not a checkpoint of this layout, or a state field missing or of the wrong type
 */
export function checkpointState(bytes: Uint8Array): TrainState {
  const state = JSON.parse(metadata(bytes)['state'] ?? 'null') as Partial<TrainState> | null;
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (
    !state ||
    !count(state.step) ||
    !count(state.steps) ||
    !Array.isArray(state.losses) ||
    state.losses.length !== state.step
  )
    throw new Error(
      `${NAME}: metadata "state" is ${JSON.stringify(state)}, expected { step, steps, losses } with one loss per step`,
    );
  return state as TrainState;
}

/** The run's tokenizer. @throws Error - not a checkpoint of this layout, or a malformed tokenizer */
export function checkpointTokenizer(bytes: Uint8Array): Tokenizer {
  return fromHuggingFaceJson(metadata(bytes)['tokenizer'] ?? '') as Tokenizer;
}

/**
 * Loads the weights into `model` and the state into `optimizer`, which must be built as the
 * saved ones were (same parameters, groups and schedule).
 *
 * @throws Error - a tensor missing, extra or of another shape (`Module.loadStateDict`,
 *   `Optimizer.loadStateDict`, which also refuses values that are not finite)
 */
export async function restoreCheckpoint(
  bytes: Uint8Array,
  model: Module,
  optimizer: Optimizer<BaseOptions>,
): Promise<void> {
  const saved = JSON.parse(metadata(bytes)['optimizer'] ?? 'null') as Omit<
    OptimizerState,
    'tensors'
  >;
  const tensors = T.loadSafetensors(bytes, { device: model.parameters()[0]?.device, name: NAME });
  const part = (prefix: string) =>
    Object.fromEntries(
      Object.entries(tensors)
        .filter(([k]) => k.startsWith(prefix))
        .map(([k, t]) => [k.slice(prefix.length), t]),
    );
  try {
    model.loadStateDict(part('model.'));
    await optimizer.loadStateDict({ ...saved, tensors: part('optimizer.') });
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}
