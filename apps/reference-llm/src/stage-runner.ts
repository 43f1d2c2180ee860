import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';
import { writeAtomic } from './atomic-write.js';
import {
  type Evaluation,
  type History,
  runTrainingLoop,
  type StopReason,
  type StopSignal,
} from './loop.js';
import { Progress, type ProgressSink, stderrSink } from './progress.js';
import { type RunReport, writeReport } from './report.js';
import {
  type Checkpoint,
  type CheckpointStateBase,
  checkRunFolder,
  claimRunFolder,
  fileError,
  type RunFolderOptions,
  readCheckpoint,
} from './run-folder.js';

/**
 * What pretraining and every tuning stage share, from opening the run folder to the report:
 * `openRun` (the folder's checks and, on resume, the checkpoint's), `runStageLoop` (claims the
 * folder, then the training loop with per-step figures), `writeRunReport`. A stage brings its
 * models, data, step function, evaluation and the files of its checkpoint (`saveCheckpoint`).
 */

/** Options every training command takes. */
export interface StageRunOptions extends RunFolderOptions {
  /** The run folder. */
  out: string;
  /** Wall-clock budget in seconds: past it the run stops, evaluates, saves and reports. */
  maxSeconds?: number;
  /** Set `reason` to stop after the current step and save. */
  stop?: StopSignal;
  /** Where progress goes; default standard error. */
  sink?: ProgressSink;
  device?: T.Device;
  /** Checkpoint every N steps; default the stage's evaluation interval. */
  saveEvery?: number;
  /** Seeds data order, dropout, sampling and adapters. Default 1. */
  seed?: number;
}

/** What every stage's `tessera.json` holds besides its own fields: which stage, and the history. */
export interface RunState extends CheckpointStateBase {
  stage: string;
  history: History;
}

/**
 * Opens a run's folder without changing it: `checkRunFolder` (no other writer, no silent
 * overwrite) and, on `resume`, the checkpoint, checked: every file it records present with its
 * SHA-256, the `stage` field, one training loss per step done. Returns the checkpoint on resume.
 *
 * @throws Error - naming the file and the field that fails
 */
export function openRun<S extends RunState>(
  stage: string,
  o: StageRunOptions,
): Checkpoint<S> | undefined {
  checkRunFolder(o.out, o);
  if (!o.resume) return undefined;
  const ckpt = readCheckpoint<S>(o.out);
  const s = ckpt.state;
  const field = (name: string, message: string) =>
    fileError(ckpt.stateFile, `field "${name}" ${message}`);
  if (s.stage !== stage) throw field('stage', `is ${JSON.stringify(s.stage)}, expected "${stage}"`);
  if (
    !Array.isArray(s.history?.trainLoss) ||
    s.history.trainLoss.length !== s.step ||
    !Array.isArray(s.history.val)
  )
    throw field(
      'history',
      `must hold one training loss per step done (${s.step}) and a validation list`,
    );
  ckpt.verify();
  return ckpt;
}

/** What one step of a stage returns: its loss, the tokens it trained on, and its own figures. */
export interface StageStep {
  loss: number;
  tokens: number;
  metrics?: Record<string, number>;
}

export interface StageLoopOptions<Batch> {
  /** The stage's name, on the progress bar. */
  stage: string;
  run: StageRunOptions;
  device: T.Device;
  /** Steps already done (a resumed run's `step`). */
  start: number;
  total: number;
  history: History;
  /** Every step's figures, appended to (a stage that records them in its checkpoint). */
  metrics?: Record<string, number>[];
  evalEvery: number;
  /** The run's seed (a resumed run's own, not the flag's): dropout draws from it and the step. */
  seed: number;
  data: (step: number) => Batch;
  step: (batch: Batch, step: number) => Promise<StageStep>;
  evaluate: () => Promise<Evaluation>;
  save: (stepsDone: number) => Promise<void>;
  /** The checkpoint a resumed run read (`openRun`): the claim checks it is still the current one. */
  resumed?: Checkpoint;
  /** Tokens every step trains on, for the rate beside the progress bar. */
  tokensPerStep?: number;
  /**
   * Files the run keeps beside its checkpoints (a stage's generated data), by path: written
   * just before the first checkpoint, never before the folder is claimed.
   */
  files?: Record<string, string>;
}

/** How a stage's loop went. */
export interface StageLoopResult {
  /** Steps done in all (including those before a resume). */
  steps: number;
  /** Steps this call took (0 when a resumed run was already complete). */
  stepsRun: number;
  stopReason?: StopReason;
  seconds: number;
  /** Tokens trained on (or generated and trained on) per second over this call's steps. */
  tokensPerSecond: number;
  /** The device's peak live memory during the run, bytes. */
  peakBytes: number;
}

/**
 * Runs a stage's steps: claims the run folder (`claimRunFolder`: lock, debris, a replaced run's
 * files once the first checkpoint is saved; the stage's `files` are written just before that
 * checkpoint), then the app's training loop (progress bar,
 * evaluation and checkpoints at intervals, the time limit, Ctrl-C and SIGTERM), seeding dropout
 * by the step (a resumed run draws the masks an uninterrupted one would), recording each step's
 * figures in `metrics` and counting tokens for the throughput; the device's peak memory is
 * measured over the run. The lock is released when the loop ends, normally or not.
 */
export async function runStageLoop<Batch>(o: StageLoopOptions<Batch>): Promise<StageLoopResult> {
  const claim = claimRunFolder(o.run.out, o.run, o.resumed);
  try {
    const sink = o.run.sink ?? stderrSink;
    if (o.start >= o.total)
      sink.write(`${o.run.out} is complete (step ${o.start} of ${o.total}): nothing to train\n`);
    let tokens = 0;
    const pending = Object.entries(o.files ?? {});
    o.device.resetPeakMemory();
    const r = await runTrainingLoop({
      start: o.start,
      total: o.total,
      data: o.data,
      step: async (batch, step) => {
        T.manualSeed(1_000_003 * o.seed + step);
        const s = await o.step(batch, step);
        tokens += s.tokens;
        o.metrics?.push({ loss: s.loss, ...s.metrics });
        return s.loss;
      },
      evaluate: { every: o.evalEvery, run: o.evaluate },
      checkpoint: {
        every: o.run.saveEvery ?? o.evalEvery,
        save: async (step) => {
          for (const [path, text] of pending.splice(0)) {
            mkdirSync(dirname(path), { recursive: true });
            writeAtomic(path, text);
          }
          await o.save(step);
          claim.saved();
        },
      },
      history: o.history,
      progress: new Progress(o.stage, o.total, sink, o.start),
      stop: o.run.stop,
      maxSeconds: o.run.maxSeconds,
      tokensPerStep: o.tokensPerStep,
    });
    return {
      steps: r.steps,
      stepsRun: r.steps - o.start,
      stopReason: r.stopReason,
      seconds: r.seconds,
      tokensPerSecond: tokens / Math.max(r.seconds, 1e-9),
      peakBytes: o.device.memory().peakBytes,
    };
  } finally {
    claim.release();
  }
}

/**
 * Writes a run's report (`writeReport`), except when this call trained no step and a report is
 * already there: a resumed run that was already complete keeps the report of the run that did
 * the work (with its throughput). Returns whether it wrote.
 */
export function writeRunReport(dir: string, loop: StageLoopResult, report: RunReport): boolean {
  if (loop.stepsRun === 0 && existsSync(join(dir, 'report.json'))) return false;
  writeReport(dir, report);
  return true;
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
