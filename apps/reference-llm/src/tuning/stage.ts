import {
  AdamW,
  type BaseOptions,
  type Optimizer,
  type Schedule,
  warmupCosine,
} from '@tessera/optim';
import type * as T from '@tessera/tensor-webgpu';
import type { ModelState } from '../load.js';
import type { History } from '../loop.js';
import type { WithOptimizer } from '../optimizer-state.js';
import { writeReport } from '../report.js';
import { type Checkpoint, FILES, fileError, readCheckpoint } from '../run-folder.js';
import { saveCheckpoint } from '../save-checkpoint.js';
import {
  openRun,
  type StageLoopResult,
  type StageRunOptions,
  writeRunReport,
} from '../stage-runner.js';
import { curvesSvg, type Panel } from './curves.js';

export { restoreOptimizer } from '../optimizer-state.js';
export {
  atEvaluations,
  formatBytes,
  perStep,
  runStageLoop,
  type StageLoopOptions,
  type StageLoopResult,
  type StageRunOptions,
  type StageStep,
  stoppedNote,
} from '../stage-runner.js';

/** The tuning stages; each writes a run folder of its own. */
export type StageName = 'sft' | 'reward' | 'dpo' | 'ppo' | 'grpo';

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
 * Opens a stage's run folder (`openRun`: the folder's checks, and on `resume` the checkpoint's:
 * every file, the stage, the history) and checks what a tuning stage adds: one metrics record per
 * step, and the checkpoints it started from unchanged (same weights). Changes nothing; the folder
 * is claimed when the loop starts (`runStageLoop`). `restoreOptimizer` checks the optimizer's step.
 */
export function openStage<S extends StageState>(
  stage: StageName,
  o: StageRunOptions,
  sources: Record<string, SourceRef>,
): Checkpoint<S> | undefined {
  const ckpt = openRun<S>(stage, o);
  if (!ckpt) return undefined;
  const s = ckpt.state;
  if (!Array.isArray(s.metrics) || s.metrics.length !== s.step)
    throw fileError(
      ckpt.stateFile,
      `field "metrics" must hold one record per step done (${s.step})`,
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
 * Saves a stage's checkpoint atomically (`saveCheckpoint`): the files, the optimizer state and
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
  await saveCheckpoint(out, stage, { weights, files, optimizer, state });
}

/**
 * Writes a stage's report (`writeRunReport`): report.json, report.md, the loss chart and the
 * stage's curves (`curves.svg`), with every step's figures in report.json. With `loop`, a
 * resumed run that trained no step keeps the report already there.
 */
export function writeStageReport(
  dir: string,
  r: {
    title: string;
    facts: [string, string][];
    summary: Record<string, unknown>;
    history: History;
    schedule: Schedule;
    panels: Panel[];
    loop?: StageLoopResult;
    /** Every step's figures (loss, reward, KL, …), written to `report.json` as `steps`. */
    metrics?: Record<string, number>[];
  },
): void {
  const report = {
    title: r.title,
    facts: r.facts,
    summary: r.metrics ? { ...r.summary, steps: r.metrics } : r.summary,
    history: r.history,
    schedules: { adamw: r.schedule },
    figures: [{ file: 'curves.svg', title: 'curves', svg: curvesSvg(r.title, r.panels) }],
  };
  if (r.loop) writeRunReport(dir, r.loop, report);
  else writeReport(dir, report);
}
