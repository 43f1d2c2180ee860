import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AdamW,
  type BaseOptions,
  type Optimizer,
  type Schedule,
  warmupCosine,
} from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { firstNonFinite } from '../finite.js';
import type { ModelState } from '../load.js';
import {
  type Evaluation,
  type History,
  runTrainingLoop,
  type StopReason,
  type StopSignal,
} from '../loop.js';
import { readOptimizerState, type WithOptimizer } from '../optimizer-state.js';
import { Progress, type ProgressSink, stderrSink } from '../progress.js';
import { writeReport } from '../report.js';
import {
  type Checkpoint,
  FILES,
  fileError,
  prepareRunFolder,
  readCheckpoint,
  writeCheckpoint,
} from '../run-folder.js';
import { curvesSvg, type Panel } from './curves.js';

/** The tuning stages; each writes a run folder of its own. */
export type StageName = 'sft' | 'reward' | 'dpo' | 'ppo';

/** A checkpoint a stage was started from (`--from`, `--reward`), fingerprinted by its weights. */
export interface SourceRef {
  /** The run folder, as given. */
  path: string;
  /** The stage that wrote it (`pretrain` for a pretrained model). */
  stage: string;
  step: number;
  /** SHA-256 of its `model.safetensors`. */
  sha256: string;
}

/** `tessera.json` of a tuning checkpoint. */
export interface StageState extends ModelState, WithOptimizer {
  stage: StageName;
  /** The preset whose tuning recipe the run follows (the preset the model was pretrained with). */
  recipe: string;
  /** The run's resolved settings (flags and defaults); a resume must not change them. */
  settings: object;
  /** The checkpoints the run started from. */
  sources: Record<string, SourceRef>;
  seed: number;
  history: History;
  /** Figures of every step (loss and the stage's own: accuracy, reward, KL, …). */
  metrics: Record<string, number>[];
}

/** Options every tuning stage takes. */
export interface StageRunOptions {
  /** The run folder. */
  out: string;
  /** Continue the checkpoint in `out`. */
  resume?: boolean;
  /** Delete the checkpoint in `out` and start over. */
  force?: boolean;
  /** Wall-clock budget in seconds: past it the run stops, evaluates, saves and reports. */
  maxSeconds?: number;
  /** Set `reason` to stop after the current step and save. */
  stop?: StopSignal;
  /** Where progress goes; default standard error. */
  sink?: ProgressSink;
  device?: T.Device;
  /** Checkpoint every N steps; default the recipe's evaluation interval. */
  saveEvery?: number;
  /** Seeds data order, sampling and adapters. Default 1. */
  seed?: number;
}

/** What a stage's state records of a model it read: the folder's checkpoint and which recipe it follows. */
interface SourceState extends ModelState {
  stage?: string;
  preset?: { name?: string };
  recipe?: string;
}

/** Opens the checkpoint of a run folder a stage starts from; errors name the flag and the file. */
export function openSource(
  flag: string,
  dir: string,
): { ckpt: Checkpoint<SourceState>; ref: SourceRef; recipe: string } {
  let ckpt: Checkpoint<SourceState>;
  try {
    ckpt = readCheckpoint<SourceState>(dir);
  } catch (e) {
    throw new Error(`${flag} ${dir}: ${(e as Error).message}`);
  }
  const s = ckpt.state;
  const recipe = s.recipe ?? s.preset?.name;
  if (typeof recipe !== 'string')
    throw fileError(ckpt.stateFile, 'names no preset (field "preset.name" or "recipe")');
  const sha256 = s.files[FILES.model];
  if (sha256 === undefined) throw fileError(ckpt.stateFile, `field "files" has no ${FILES.model}`);
  return { ckpt, ref: { path: dir, stage: s.stage ?? 'pretrain', step: s.step, sha256 }, recipe };
}

/**
 * A stage's settings: on a fresh run the flags given, else the recipe's; on a resume the
 * checkpoint's, where a flag given now that differs is an error naming the flag, both values and
 * the field.
 */
export function resolveSettings<S extends object>(
  given: { [K in keyof S]?: S[K] },
  defaults: S,
  flags: { [K in keyof S]: string },
  saved?: { settings: object; stateFile: string },
): S {
  const out = {} as S;
  for (const key of Object.keys(defaults) as (keyof S & string)[]) {
    const now = given[key];
    if (saved) {
      const was = (saved.settings as S)[key];
      if (now !== undefined && JSON.stringify(now) !== JSON.stringify(was))
        throw new Error(
          `${flags[key]} ${JSON.stringify(now)} conflicts with the checkpoint, which was started with ${JSON.stringify(was)} (${saved.stateFile} field "settings.${key}"); leave ${flags[key]} out to resume, or pass --force to start over`,
        );
      out[key] = was;
    } else out[key] = now ?? defaults[key];
  }
  return out;
}

/**
 * Prepares a stage's run folder (`prepareRunFolder`: no silent overwrite) and, on `resume`,
 * opens its checkpoint and checks it: the stage, one history entry and metrics record per step,
 * and the checkpoints it started from unchanged (same weights); `restoreOptimizer` checks the
 * optimizer's step.
 */
export function openStage<S extends StageState>(
  stage: StageName,
  o: StageRunOptions,
  sources: Record<string, SourceRef>,
): Checkpoint<S> | undefined {
  prepareRunFolder(o.out, o);
  if (!o.resume) return undefined;
  const ckpt = readCheckpoint<S>(o.out);
  const s = ckpt.state;
  const field = (name: string, message: string) =>
    fileError(ckpt.stateFile, `field "${name}" ${message}`);
  if (s.stage !== stage) throw field('stage', `is ${JSON.stringify(s.stage)}, expected "${stage}"`);
  if (
    !Array.isArray(s.history?.trainLoss) ||
    s.history.trainLoss.length !== s.step ||
    !Array.isArray(s.metrics) ||
    s.metrics.length !== s.step
  )
    throw field(
      'history',
      `must hold one training loss and one metrics record per step done (${s.step})`,
    );
  for (const [name, now] of Object.entries(sources)) {
    const was = s.sources?.[name];
    if (was?.sha256 !== now.sha256)
      throw new Error(
        `${now.path}: its checkpoint (step ${now.step}, model SHA-256 ${now.sha256.slice(0, 12)}…) is not the one this run started from (${ckpt.stateFile} field "sources.${name}": ${was?.path} step ${was?.step}, ${was?.sha256?.slice(0, 12)}…)`,
      );
  }
  return ckpt;
}

/** AdamW (β 0.9, 0.999, no weight decay, as TRL's defaults) on warmup + cosine decay to a tenth. */
export function tuningOptimizer(
  params: T.Tensor[],
  lr: number,
  warmup: number,
  total: number,
): { optimizer: Optimizer<BaseOptions>; schedule: Schedule } {
  const schedule = warmupCosine({ lr, warmup: Math.min(warmup, total), total, minLr: lr / 10 });
  return { optimizer: new AdamW(params, { lr: schedule, weightDecay: 0 }), schedule };
}

/**
 * Loads a resumed stage's optimizer state, which must be at the run's step (`updatesPerStep`
 * optimizer updates per step: PPO makes several); errors name `optimizer.safetensors` or the field.
 */
export async function restoreOptimizer(
  optimizer: Optimizer<BaseOptions>,
  ckpt: Checkpoint<StageState>,
  device: T.Device,
  updatesPerStep = 1,
): Promise<void> {
  const { step, optimizer: saved } = ckpt.state;
  if (saved?.step !== step * updatesPerStep)
    throw fileError(
      ckpt.stateFile,
      `field "optimizer.step" is ${JSON.stringify(saved?.step)}, but the run is at step ${step}${updatesPerStep > 1 ? ` of ${updatesPerStep} updates each` : ''}`,
    );
  try {
    await optimizer.loadStateDict(readOptimizerState(ckpt, device));
  } catch (e) {
    const message = (e as Error).message;
    throw message.includes(FILES.optimizer)
      ? e
      : fileError(join(ckpt.folder, FILES.optimizer), message);
  }
}

/**
 * Saves a stage's checkpoint atomically (`writeCheckpoint`): the files, the optimizer state and
 * `tessera.json`. Weights that are not finite are never saved: the error names the tensor and
 * says whether the previous checkpoint is kept.
 */
export async function saveStage(
  out: string,
  stage: StageName,
  weights: Record<string, Uint8Array>,
  files: Record<string, Uint8Array | string>,
  optimizer: Optimizer<BaseOptions>,
  state: Omit<StageState, 'format' | 'version' | 'files' | 'optimizer'>,
): Promise<void> {
  for (const [name, bytes] of Object.entries(weights)) {
    const bad = firstNonFinite(bytes);
    if (bad)
      throw new Error(
        `${stage}: refusing to save weights that are not finite at step ${state.step} (${name}: ${bad}); ${existsSync(join(out, FILES.pointer)) ? `the previous checkpoint in ${out} is kept` : 'no checkpoint was written'}`,
      );
  }
  const { tensors, ...optimizerState } = optimizer.stateDict();
  writeCheckpoint<Omit<StageState, 'format' | 'version' | 'files'>>(
    out,
    { ...weights, ...files, [FILES.optimizer]: await T.saveSafetensors(tensors) },
    { ...state, optimizer: optimizerState },
  );
}

/** What one step of a stage returns: its loss, the tokens it trained on, and its own figures. */
export interface StageStep {
  loss: number;
  tokens: number;
  metrics?: Record<string, number>;
}

export interface StageLoopOptions<Batch> {
  stage: StageName;
  run: StageRunOptions;
  device: T.Device;
  start: number;
  total: number;
  history: History;
  metrics: Record<string, number>[];
  evalEvery: number;
  data: (step: number) => Batch;
  step: (batch: Batch, step: number) => Promise<StageStep>;
  evaluate: () => Promise<Evaluation>;
  save: (stepsDone: number) => Promise<void>;
}

/** How a stage's loop went. */
export interface StageLoopResult {
  steps: number;
  stopReason?: StopReason;
  seconds: number;
  /** Tokens trained on (or generated and trained on) per second over this call's steps. */
  tokensPerSecond: number;
  /** The device's peak live memory during the run, bytes. */
  peakBytes: number;
}

/**
 * Runs a stage's steps through the app's training loop (progress bar, evaluation and checkpoints
 * at intervals, the time limit, Ctrl-C), recording each step's figures in `metrics` and counting
 * tokens for the throughput; the device's peak memory is measured over the run.
 */
export async function runStageLoop<Batch>(o: StageLoopOptions<Batch>): Promise<StageLoopResult> {
  let tokens = 0;
  o.device.resetPeakMemory();
  const r = await runTrainingLoop({
    start: o.start,
    total: o.total,
    data: o.data,
    step: async (batch, step) => {
      T.manualSeed(1_000_003 * (o.run.seed ?? 1) + step); // dropout, reproducible on resume
      const s = await o.step(batch, step);
      tokens += s.tokens;
      o.metrics.push({ loss: s.loss, ...s.metrics });
      return s.loss;
    },
    evaluate: { every: o.evalEvery, run: o.evaluate },
    checkpoint: { every: o.run.saveEvery ?? o.evalEvery, save: o.save },
    history: o.history,
    progress: new Progress(o.stage, o.total, o.run.sink ?? stderrSink, o.start),
    stop: o.run.stop,
    maxSeconds: o.run.maxSeconds,
  });
  return {
    steps: r.steps,
    stopReason: r.stopReason,
    seconds: r.seconds,
    tokensPerSecond: tokens / Math.max(r.seconds, 1e-9),
    peakBytes: o.device.memory().peakBytes,
  };
}

/** [step, value] pairs of one figure of every step's metrics (steps are 1-based). */
export function perStep(
  metrics: readonly Record<string, number>[],
  key: string,
): [number, number][] {
  return metrics.flatMap((m, i) =>
    m[key] === undefined ? [] : [[i + 1, m[key]] as [number, number]],
  );
}

/** [step, value] pairs of one validation figure. */
export function atEvaluations(history: History, key: string): [number, number][] {
  return history.val.flatMap((v) =>
    v[key] === undefined ? [] : [[v.step, v[key]] as [number, number]],
  );
}

/** Writes a stage's report: report.json, report.md, the loss chart and the stage's curves (`curves.svg`). */
export function writeStageReport(
  dir: string,
  r: {
    title: string;
    facts: [string, string][];
    summary: Record<string, unknown>;
    history: History;
    schedule: Schedule;
    panels: Panel[];
  },
): void {
  writeReport(dir, {
    title: r.title,
    facts: r.facts,
    summary: r.summary,
    history: r.history,
    schedules: { adamw: r.schedule },
    figures: [{ file: 'curves.svg', title: 'curves', svg: curvesSvg(r.title, r.panels) }],
  });
}

/** `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30
    ? `${(bytes / 2 ** 30).toFixed(2)} GiB`
    : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The summary line of a stopped or finished run. */
export function stoppedNote(r: StageLoopResult, total: number): string {
  const why = { time: 'the time limit', SIGINT: 'Ctrl-C (SIGINT)', SIGTERM: 'SIGTERM' };
  return r.stopReason ? ` of ${total} (stopped by ${why[r.stopReason]}; resume with --resume)` : '';
}
