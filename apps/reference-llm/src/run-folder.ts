import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { syncFolder, TEMP_MARK, writeAtomic, writeDurable } from './atomic-write.js';
import { LOCK_FILE, lockedError, lockHolder, takeLock } from './run-lock.js';

/**
 * The run folder, version 2:
 *
 *     DIR/run.json                          { format: "tessera-run", version: 2, checkpoint: "checkpoints/step-000040" }
 *     DIR/checkpoints/step-000040/          the checkpoint run.json points to, complete:
 *         model.safetensors                 weights (Hugging Face Llama names)
 *         optimizer.safetensors             optimizer state tensors
 *         tokenizer.json                    Hugging Face tokenizer
 *         config.json                       Hugging Face LlamaConfig (transformers loads the folder)
 *         tessera.json                      the run's state: step, settings, history, a SHA-256 per file
 *     DIR/report.json, report.md, loss.svg  the report (curves.svg: a tuning stage's figures)
 *     DIR/tasks.json                        results of `tasks`
 *     DIR/run.lock                          while a run writes the folder: its process (pid, host)
 *
 * A save writes a new step folder under a temporary name, renames it into place, then switches
 * `run.json` to it (one atomic rename) and only then removes the previous checkpoint: a crash at
 * any point leaves `run.json` naming one complete checkpoint.
 */
export const RUN_FORMAT = 'tessera-run';
export const RUN_VERSION = 2;

/** Files of a checkpoint (in its step folder) and of the run folder. */
export const FILES = {
  pointer: 'run.json',
  lock: LOCK_FILE,
  checkpoints: 'checkpoints',
  model: 'model.safetensors',
  optimizer: 'optimizer.safetensors',
  tokenizer: 'tokenizer.json',
  hfConfig: 'config.json',
  state: 'tessera.json',
  tasks: 'tasks.json',
  report: ['report.json', 'report.md', 'loss.svg', 'curves.svg'],
} as const;

/** What `tessera.json` holds in every checkpoint; a stage adds its own fields. */
export interface CheckpointStateBase {
  format: typeof RUN_FORMAT;
  version: typeof RUN_VERSION;
  /** Optimisation steps done. */
  step: number;
  /** The run's planned length. */
  totalSteps: number;
  /** SHA-256 (hex) of every other file of the checkpoint, by name. */
  files: Record<string, string>;
}

/** An error about a file: the message starts with the file's path. */
export function fileError(path: string, message: string): Error {
  return new Error(`${path}: ${message}`);
}

const STEP_DIR = /^step-\d+$/;
const PARTIAL = '.partial-';

function stepFolder(step: number): string {
  return `${FILES.checkpoints}/step-${String(step).padStart(6, '0')}`;
}

function holdsCheckpoint(dir: string): { holds: boolean; legacy: boolean } {
  const legacy = existsSync(join(dir, FILES.hfConfig)) && existsSync(join(dir, FILES.model));
  return { holds: existsSync(join(dir, FILES.pointer)) || legacy, legacy };
}

/** What a command that writes a run folder was told to do with a checkpoint already there. */
export interface RunFolderOptions {
  /** Continue the checkpoint in the folder (an error when there is none). */
  resume?: boolean;
  /** Replace the checkpoint in the folder (without it, an existing checkpoint is an error). */
  force?: boolean;
}

/**
 * Checks, without changing anything, that a run may write `dir`: no other process writes it
 * (its lock), and a checkpoint there is continued (`resume`) or replaced (`force`), never
 * silently overwritten. Every training command calls it before reading its other inputs, and
 * claims the folder (`claimRunFolder`) only once all of them passed.
 */
export function checkRunFolder(dir: string, o: RunFolderOptions): void {
  if (o.resume && o.force)
    throw new Error(`${dir}: --resume and --force contradict each other; pass one`);
  const holder = lockHolder(dir);
  if (holder) throw lockedError(dir, holder);
  checkContents(dir, o);
}

function checkContents(dir: string, o: RunFolderOptions): void {
  const pointer = join(dir, FILES.pointer);
  const { holds, legacy } = holdsCheckpoint(dir);
  if (holds && !o.resume && !o.force) {
    const what = legacy ? 'a checkpoint (in the version 1 layout)' : describe(dir);
    throw new Error(
      `${dir} holds ${what}; pass --resume to continue it or --force to delete it and start over`,
    );
  }
  if (o.resume && !holds)
    throw fileError(pointer, 'is missing: there is no checkpoint to resume in this folder');
  if (o.resume && legacy && !existsSync(pointer)) readPointer(dir); // the clear version error
}

/** A run's hold on its folder, from `claimRunFolder`. */
export interface RunClaim {
  /** Call after each checkpoint is saved: the first one of a `force` run removes what is left of the replaced run. */
  saved(): void;
  /** Releases the lock. */
  release(): void;
}

/**
 * Claims `dir` for a run whose inputs all passed their checks: creates it, takes its lock
 * (`run.lock`: another writer is refused), checks it again under the lock (and that a resumed
 * checkpoint is still the one `run.json` names), and removes the debris of a crash (temporary
 * files, half-written step folders, step folders `run.json` does not name). A `force` run deletes
 * nothing yet: the replaced checkpoint goes when the new run's first checkpoint is complete
 * (`writeCheckpoint` switches `run.json` to it), its report and `tasks.json` just after.
 */
export function claimRunFolder(dir: string, o: RunFolderOptions, resumed?: Checkpoint): RunClaim {
  mkdirSync(dir, { recursive: true });
  const release = takeLock(dir);
  try {
    checkContents(dir, o);
    if (resumed && join(dir, readPointer(dir)) !== resumed.folder)
      throw fileError(
        join(dir, FILES.pointer),
        `names ${readPointer(dir)} now, not the checkpoint this run read (${resumed.folder}): another process wrote the folder meanwhile; start again`,
      );
    removeDebris(dir);
  } catch (e) {
    release();
    throw e;
  }
  let replaced = o.force === true;
  return {
    saved() {
      if (!replaced) return;
      replaced = false;
      for (const name of [FILES.tasks, ...FILES.report]) rmSync(join(dir, name), { force: true });
      for (const name of [FILES.model, FILES.optimizer, FILES.tokenizer, FILES.hfConfig])
        rmSync(join(dir, name), { force: true }); // a version 1 checkpoint
    },
    release,
  };
}

function describe(dir: string): string {
  try {
    const state = readCheckpoint(dir).state;
    return `a checkpoint at step ${state.step} of ${state.totalSteps}`;
  } catch {
    return 'a checkpoint';
  }
}

/** Deletes temporary files and step folders that no pointer names (left by a crash). */
function removeDebris(dir: string): void {
  for (const name of readdirSync(dir))
    if (name.includes(TEMP_MARK)) rmSync(join(dir, name), { force: true });
  const folder = join(dir, FILES.checkpoints);
  if (!existsSync(folder)) return;
  const current = existsSync(join(dir, FILES.pointer)) ? readPointer(dir) : undefined;
  for (const name of readdirSync(folder)) {
    if (`${FILES.checkpoints}/${name}` === current) continue;
    if (name.includes(PARTIAL) || STEP_DIR.test(name) || name.includes(TEMP_MARK))
      rmSync(join(folder, name), { recursive: true, force: true });
  }
}

/** The step folder `run.json` names, relative to `dir`, checked. */
function readPointer(dir: string): string {
  const path = join(dir, FILES.pointer);
  if (!existsSync(path)) {
    if (existsSync(join(dir, FILES.hfConfig)) && existsSync(join(dir, FILES.model)))
      throw fileError(
        path,
        `is missing: ${dir} holds a checkpoint in the version 1 layout (files at the top level); this reference-llm reads version ${RUN_VERSION}. Pretrain again, or use a version 0.1 reference-llm`,
      );
    throw fileError(path, 'is missing (is this a reference-llm run folder?)');
  }
  const pointer = parseJson(path) as { format?: unknown; version?: unknown; checkpoint?: unknown };
  if (pointer.format !== RUN_FORMAT)
    throw fileError(
      path,
      `field "format" is ${JSON.stringify(pointer.format)}, expected "${RUN_FORMAT}"`,
    );
  if (pointer.version !== RUN_VERSION)
    throw fileError(
      path,
      `field "version" is ${JSON.stringify(pointer.version)}; this reference-llm reads version ${RUN_VERSION}`,
    );
  const checkpoint = pointer.checkpoint;
  if (typeof checkpoint !== 'string' || !/^checkpoints\/step-\d+$/.test(checkpoint))
    throw fileError(
      path,
      `field "checkpoint" is ${JSON.stringify(checkpoint)}, expected "checkpoints/step-<digits>"`,
    );
  return checkpoint;
}

function parseJson(path: string): unknown {
  if (!existsSync(path)) throw fileError(path, 'is missing');
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw fileError(path, `is corrupt (${(e as Error).message})`);
  }
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Saves a checkpoint of `state.step` atomically as a whole (see the format above): the files,
 * then `tessera.json` with `state` and each file's SHA-256, into a new step folder; then
 * `run.json` switches to it; then the previous checkpoint is deleted.
 */
export function writeCheckpoint<
  S extends Omit<CheckpointStateBase, 'format' | 'version' | 'files'>,
>(dir: string, files: Record<string, string | Uint8Array>, state: S): void {
  const target = stepFolder(state.step);
  const partial = join(dir, `${target}${PARTIAL}${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const hashes: Record<string, string> = {};
  for (const [name, data] of Object.entries(files)) {
    writeDurable(join(partial, name), data);
    hashes[name] = sha256(data);
  }
  const full = { format: RUN_FORMAT, version: RUN_VERSION, ...state, files: hashes };
  writeDurable(join(partial, FILES.state), `${JSON.stringify(full, null, 1)}\n`);
  syncFolder(partial);
  let previous = existsSync(join(dir, FILES.pointer)) ? readPointer(dir) : undefined;
  if (previous === target) {
    // A replaced run (--force) had a checkpoint of this very step: set it aside under a debris
    // name rather than delete it before the new one is in place.
    const aside = `${target}${PARTIAL}replaced-${process.pid}`;
    rmSync(join(dir, aside), { recursive: true, force: true });
    renameSync(join(dir, target), join(dir, aside));
    previous = aside;
  } else rmSync(join(dir, target), { recursive: true, force: true }); // a stale folder of this step
  renameSync(partial, join(dir, target));
  syncFolder(join(dir, FILES.checkpoints));
  writeAtomic(
    join(dir, FILES.pointer),
    `${JSON.stringify({ format: RUN_FORMAT, version: RUN_VERSION, checkpoint: target }, null, 1)}\n`,
  );
  if (previous) rmSync(join(dir, previous), { recursive: true, force: true });
}

/** A checkpoint found through `run.json`: its state, checked, and its files, verified when read. */
export interface Checkpoint<S extends CheckpointStateBase = CheckpointStateBase> {
  /** The step folder. */
  folder: string;
  /** Path of `tessera.json`, for errors about its fields. */
  stateFile: string;
  state: S;
  /** A file of the checkpoint, after checking its SHA-256 against `tessera.json`. */
  read(name: string): Buffer;
  /** Checks every file `tessera.json` records (present, same SHA-256), as a resume does. */
  verify(): void;
}

/**
 * Opens the checkpoint `run.json` names. Throws, naming the file and the field, when `run.json`
 * or `tessera.json` is missing, corrupt or of another version, when `step` is not an integer in
 * [0, totalSteps], or (on `read` and `verify`) when a file is missing or is not the one saved
 * with this state.
 */
export function readCheckpoint<S extends CheckpointStateBase = CheckpointStateBase>(
  dir: string,
): Checkpoint<S> {
  const folder = join(dir, readPointer(dir));
  const stateFile = join(folder, FILES.state);
  const state = parseJson(stateFile) as S;
  const field = (name: string, message: string) =>
    fileError(stateFile, `field "${name}" ${message}`);
  if (state === null || typeof state !== 'object') throw fileError(stateFile, 'is not an object');
  if (state.version !== RUN_VERSION)
    throw field('version', `is ${JSON.stringify(state.version)}, expected ${RUN_VERSION}`);
  if (!Number.isInteger(state.totalSteps) || state.totalSteps < 1)
    throw field('totalSteps', `is ${JSON.stringify(state.totalSteps)}, expected an integer >= 1`);
  if (!Number.isInteger(state.step) || state.step < 0 || state.step > state.totalSteps)
    throw field(
      'step',
      `is ${JSON.stringify(state.step)}, expected an integer in [0, ${state.totalSteps}] (totalSteps)`,
    );
  if (state.files === null || typeof state.files !== 'object')
    throw field('files', 'is missing: the SHA-256 of each file of the checkpoint');
  return {
    folder,
    stateFile,
    state,
    read(name) {
      const path = join(folder, name);
      const expected = state.files[name];
      if (expected === undefined)
        throw field(`files["${name}"]`, 'is missing: this checkpoint was saved without that file');
      if (!existsSync(path)) throw fileError(path, 'is missing');
      const data = readFileSync(path);
      const actual = sha256(data);
      if (actual !== expected) {
        const what =
          name === FILES.tokenizer
            ? 'is not the tokenizer the model was trained with'
            : 'is not the file saved with this checkpoint';
        throw fileError(
          path,
          `${what}: its SHA-256 fingerprint is ${actual.slice(0, 12)}…, ${relative(dir, stateFile)} records ${expected.slice(0, 12)}… (field files["${name}"]); the file was replaced, truncated or comes from another run`,
        );
      }
      return data;
    },
    verify() {
      for (const name of Object.keys(state.files)) this.read(name);
    },
  };
}
