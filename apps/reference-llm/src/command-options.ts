import {
  type Command,
  type CommandUnknownOpts,
  InvalidArgumentError,
  Option,
  type OptionValues,
} from '@commander-js/extra-typings';
import { createDevice, type Device } from '@tessera/tensor-webgpu';
import type { StopReason, StopSignal } from './loop.js';
import { OPTIMIZERS, type OptimizerName } from './optimizer.js';
import { PRESETS } from './presets.js';
import { METHODS } from './rag/retrieval-methods.js';
import { SIGNAL_EXIT, stopOnSignals } from './stop-signals.js';

/** An integer ≥ `min`; the message completes commander's "option '--x' argument 'v' is invalid." */
export function integer(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`Expected an integer >= ${min}.`);
    return n;
  };
}

/** A finite number in a range; `open` ends exclude the bound (`(0, 1]` is `{ above: 0, atMost: 1 }`). */
export function numberIn(range: {
  above?: number;
  atLeast?: number;
  atMost?: number;
}): (value: string) => number {
  const lo =
    range.above !== undefined
      ? `> ${range.above}`
      : range.atLeast !== undefined
        ? `>= ${range.atLeast}`
        : '';
  const hi = range.atMost !== undefined ? `<= ${range.atMost}` : '';
  const expected = `Expected a number${[lo, hi]
    .filter(Boolean)
    .map((s) => ` ${s}`)
    .join(' and')}.`;
  return (value) => {
    const n = Number(value);
    const ok =
      value.trim() !== '' &&
      Number.isFinite(n) &&
      (range.above === undefined || n > range.above) &&
      (range.atLeast === undefined || n >= range.atLeast) &&
      (range.atMost === undefined || n <= range.atMost);
    if (!ok) throw new InvalidArgumentError(expected);
    return n;
  };
}

/** Text with something besides whitespace (a question); the message completes commander's "argument 'x' is invalid." */
export function nonBlank(value: string): string {
  if (value.trim() === '')
    throw new InvalidArgumentError('Expected text that is not empty or only whitespace.');
  return value;
}

/** `--backend`: where tensors live. */
export const backendOption = () =>
  new Option(
    '--backend <kind>',
    'compute device; auto is WebGPU where an adapter exists, else wasm (the CPU cores; TESSERA_THREADS=N sets its threads), else the CPU reference',
  )
    .choices(['auto', 'webgpu', 'wasm', 'cpu'] as const)
    .default('auto' as const);

/** `--checkpoint`: the run folder to read. */
export const checkpointOption = () =>
  new Option('--checkpoint <dir>', 'run folder written by pretrain').default('runs/tiny');

/** `--resume`, a flag of every command that writes a run folder (`RunFolderOptions`). */
export const resumeOption = () =>
  new Option('--resume', 'continue the checkpoint in the run folder').conflicts('force');

/** `--force`, a flag of every command that writes a run folder (`RunFolderOptions`). */
export const forceOption = () =>
  new Option(
    '--force',
    "replace the checkpoint in the run folder (kept until every input passed its checks and the new run's first checkpoint is saved)",
  ).conflicts('resume');

/** `--seed`: seeds sampling or few-shot selection. */
/** `--database-url`: the PostgreSQL of a pgvector index (`rag index`, `rag query`, `agent`); default `DATABASE_URL`. */
export const databaseUrlOption = () =>
  new Option(
    '--database-url <url>',
    'PostgreSQL of a pgvector index (postgres://user:password@host:port/database)',
  ).env('DATABASE_URL');

/** `--method`: the retrieval of an index (`rag query`, `agent`); default the one the models record. */
export const retrievalMethodOption = () =>
  new Option(
    '--method <name>',
    'retrieval method, as named in "rag eval"\'s table (default: the one "rag train" or "rag eval" chose on the dev split and recorded in the models\' retrieval.json)',
  ).choices(METHODS);

export const seedOption = (what: string) =>
  new Option('--seed <n>', `seed for ${what}`).argParser(integer(0)).default(0);

/** Adds `options` to `command`, typed as commander parses them (`Flags`). */
function withOptions<Flags, Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
  options: Option[],
): Command<Args, Opts & Flags> {
  for (const option of options)
    (command as unknown as CommandUnknownOpts).addOption(option as never);
  return command as unknown as Command<Args, Opts & Flags>;
}

/** The options `presetOptions` adds, as commander parses them. */
export type PresetFlags = {
  preset?: string;
  optimizer?: OptimizerName;
};

/** `--preset` and `--optimizer`, the first options of the commands that train with pretrain's recipe (pretrain, dllm train). */
export function presetOptions<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
): Command<Args, Opts & PresetFlags> {
  return withOptions<PresetFlags, Args, Opts>(command, [
    new Option(
      '--preset <name>',
      "model and recipe (default: tiny; on --resume, the checkpoint's)",
    ).choices(Object.keys(PRESETS)),
    new Option(
      '--optimizer <name>',
      "optimizer (default: adamw; on --resume, the checkpoint's)",
    ).choices(OPTIMIZERS),
  ]);
}

/** The options `trainingOptions` adds, as commander parses them. */
export type TrainingFlags = {
  out?: string;
  resume?: true;
  force?: true;
  steps?: number;
  maxMinutes?: number;
  data?: string;
  saveEvery?: number;
  evalEvery?: number;
  backend: 'auto' | 'webgpu' | 'wasm' | 'cpu';
};

/**
 * The run options of the commands that train with pretrain's recipe (pretrain, dllm train), after
 * `presetOptions` and their own: the run folder, `--resume`/`--force`, the steps, the time limit,
 * the text, the checkpoint and validation intervals, and the backend. `defaults` words the
 * defaults that differ between them: the run folder's, the steps', and the checkpoint interval's.
 */
export function trainingOptions<Args extends unknown[], Opts extends OptionValues>(
  command: Command<Args, Opts>,
  defaults: { out: string; steps: string; saveEvery: string },
): Command<Args, Opts & TrainingFlags> {
  return withOptions<TrainingFlags, Args, Opts>(command, [
    new Option('--out <dir>', `run folder (default: ${defaults.out})`),
    resumeOption(),
    forceOption(),
    new Option('--steps <n>', `training steps (default: ${defaults.steps})`).argParser(integer(1)),
    new Option('--max-minutes <m>', 'stop after M minutes: evaluate, save, report').argParser(
      numberIn({ above: 0 }),
    ),
    new Option('--data <file>', 'UTF-8 text to train on (default: the bundled tinyshakespeare)'),
    new Option(
      '--save-every <n>',
      `checkpoint every N steps (default: ${defaults.saveEvery})`,
    ).argParser(integer(1)),
    new Option(
      '--eval-every <n>',
      "validation every N steps (default: the preset's evaluation interval)",
    ).argParser(integer(1)),
    backendOption(),
  ]);
}

/**
 * The wasm backend's worker threads from `TESSERA_THREADS` (a whole number ≥ 1), or undefined
 * (every core, at most 8) when it is unset.
 *
 * @throws Error - a value that is not a whole number ≥ 1, named with the variable
 */
export function threadsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env.TESSERA_THREADS;
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(
      `TESSERA_THREADS=${JSON.stringify(value)}: expected a whole number >= 1 (the wasm backend's worker threads)`,
    );
  return n;
}

/**
 * Runs `fn` on a device of the requested backend, destroyed afterwards; the wasm backend (chosen,
 * or picked by `auto` without a GPU) runs `TESSERA_THREADS` threads when that is set.
 */
export async function withDevice<R>(
  backend: 'auto' | 'webgpu' | 'wasm' | 'cpu',
  fn: (device: Device) => Promise<R>,
): Promise<R> {
  const threads = threadsFromEnv();
  const device = await createDevice({
    backend,
    ...(threads !== undefined && (backend === 'wasm' || backend === 'auto') ? { threads } : {}),
  });
  try {
    return await fn(device);
  } finally {
    device.destroy();
  }
}

/**
 * What the options of `presetOptions` and `trainingOptions` ask of a run with pretrain's recipe
 * (pretrain, dllm train), the time limit in seconds; the run folder, device and stop signal are
 * the command's to add.
 */
export function trainingRun(o: PresetFlags & TrainingFlags) {
  return {
    preset: o.preset,
    optimizer: o.optimizer,
    resume: o.resume,
    force: o.force,
    steps: o.steps,
    maxSeconds: o.maxMinutes === undefined ? undefined : 60 * o.maxMinutes,
    data: o.data,
    saveEvery: o.saveEvery,
    evalEvery: o.evalEvery,
  };
}

/**
 * Runs a training command on a device of the chosen backend (`withDevice`), Ctrl-C and SIGTERM
 * stopping the run after the current step (the checkpoint is saved): prints `report(r)`, and where
 * a signal stopped the run (`stopReason(r)`), sets the exit status 130 or 143.
 */
export async function runTrainingCommand<R>(
  backend: 'auto' | 'webgpu' | 'wasm' | 'cpu',
  run: (device: Device, stop: StopSignal) => Promise<R>,
  report: (r: R) => string,
  stopReason: (r: R) => string | undefined,
): Promise<void> {
  const signals = stopOnSignals();
  try {
    const r = await withDevice(backend, (device) => run(device, signals.stop));
    console.log(report(r));
    const reason = stopReason(r);
    if (reason === 'SIGINT' || reason === 'SIGTERM') process.exitCode = SIGNAL_EXIT[reason];
  } finally {
    signals.dispose();
  }
}

/** How a pretraining run ended, as its command reports it: `done`, or why and where it stopped. */
export function howItEnded(r: {
  stopReason?: StopReason;
  steps: number;
  totalSteps: number;
}): string {
  return r.stopReason === undefined
    ? 'done'
    : `stopped (${r.stopReason === 'time' ? 'time limit' : r.stopReason}) after ${r.steps} of ${r.totalSteps} steps; resume with --resume`;
}
