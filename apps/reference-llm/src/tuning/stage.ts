import {
  AdamW,
  type BaseOptions,
  type Optimizer,
  type Schedule,
  warmupCosine,
} from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import type { TransformerConfig } from '@tessera/transformer';
import type { ModelState } from '../load.js';
import type { Evaluation, History } from '../loop.js';
import { restoreOptimizer, type WithOptimizer } from '../optimizer-state.js';
import { writeReport } from '../report.js';
import { type Checkpoint, FILES, fileError, readCheckpoint } from '../run-folder.js';
import { saveCheckpoint } from '../save-checkpoint.js';
import {
  atEvaluations,
  formatBytes,
  openRun,
  perStep,
  runStageLoop,
  type StageLoopOptions,
  type StageLoopResult,
  type StageRunOptions,
  stoppedNote,
  writeRunReport,
} from '../stage-runner.js';
import { curvesSvg, type Panel } from './curves.js';
import type { Splits } from './datasets.js';
import { batchIndices, checkDataFiles, type DataFile, stageExamples } from './examples.js';
import { recipeFor, type StageRecipe, type TuningRecipe } from './recipes.js';
import type { ReplyScores } from './replies.js';

export { atEvaluations, formatBytes, perStep } from '../stage-runner.js';

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
  /** The example files the run trains and is measured on (`tuningExamples`). */
  dataFiles: { train: DataFile; heldout: DataFile };
}

/** The settings every stage has (`tessera.json` field `settings`); each stage adds its own. */
export interface StageSettings {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  /** The training examples given (`--data`), or null for generated ones. */
  data: string | null;
  /** The held-out examples given (`--heldout`), or null for generated ones. */
  heldout: string | null;
}

/** The flag of each of `StageSettings`, for `resolveSettings`' errors. */
export const STAGE_FLAGS: Record<keyof StageSettings, string> = {
  steps: '--steps',
  batchSize: '--batch-size',
  lr: '--lr',
  seed: '--seed',
  data: '--data',
  heldout: '--heldout',
};

/** `StageSettings` by default: the stage recipe's steps, batch size and learning rate; seed 1; generated data. */
export function stageDefaults(recipe: StageRecipe): StageSettings {
  return {
    steps: recipe.steps,
    batchSize: recipe.batchSize,
    lr: recipe.lr,
    seed: 1,
    data: null,
    heldout: null,
  };
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

/** A checkpoint a stage starts from, opened by `openSource`. */
export type OpenedSource = ReturnType<typeof openSource>;

/**
 * A stage's settings: on a fresh run the flags given, else the recipe's; on a resume the
 * checkpoint's, where a flag given now that differs is an error naming the flag, both values and
 * the field; a setting the checkpoint predates (a newer version's) takes the flag, else the default.
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
    // A setting newer than the checkpoint takes the flag, else its default.
    if (saved && key in saved.settings) {
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
function tuningOptimizer(
  params: T.Tensor[],
  lr: number,
  warmup: number,
  total: number,
): { optimizer: Optimizer<BaseOptions>; schedule: Schedule } {
  const schedule = warmupCosine({ lr, warmup: Math.min(warmup, total), total, minLr: lr / 10 });
  return { optimizer: new AdamW(params, { lr: schedule, weightDecay: 0 }), schedule };
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

/** The options every stage has beside its run folder's: the model it starts from and the recipe. */
export interface TuningOptions extends StageRunOptions {
  /** The run folder of the model to tune. */
  from: string;
  /** The recipe; default the one of the preset the model of `from` was pretrained with. */
  recipe?: TuningRecipe;
}

/** A tuning stage's `tessera.json`, with the settings every stage has. */
export type TunedState = StageState & { settings: StageSettings };

/** A stage opened by `openTuning`. */
export interface Tuning<S extends TunedState, K extends string = never> {
  stage: S['stage'];
  run: TuningOptions;
  device: T.Device;
  /** The checkpoints the run starts from: `from`, and the stage's others. */
  sources: Record<'from' | K, OpenedSource>;
  /** Their references, as `tessera.json` records them. */
  sourceRefs: Record<string, SourceRef>;
  recipes: TuningRecipe;
  /** The checkpoint a resumed run continues. */
  ckpt: Checkpoint<S> | undefined;
  settings: S['settings'];
  /** Writes a line to the run's sink (default stderr). */
  log: (line: string) => void;
}

/**
 * Opens a stage: the device (default the default device), the checkpoint of `from` and then
 * those of `more` (`openSource`, in that order), the recipe, the run folder (`openStage`), and the
 * settings (`resolveSettings`: the options named as the settings are the flags given; `defaults`
 * from the recipe and, on a resume, the checkpoint).
 */
export function openTuning<S extends TunedState, K extends string = never>(
  stage: S['stage'],
  o: TuningOptions & Partial<S['settings']>,
  settings: {
    defaults: (recipes: TuningRecipe, ckpt: Checkpoint<S> | undefined) => S['settings'];
    flags: Record<keyof S['settings'], string>;
  },
  more?: Record<K, () => OpenedSource>,
): Tuning<S, K> {
  const device = o.device ?? T.getDefaultDevice();
  const sources = { from: openSource('--from', o.from) } as Record<'from' | K, OpenedSource>;
  for (const name of Object.keys(more ?? {}) as K[]) sources[name] = more![name]();
  const recipes = o.recipe ?? recipeFor(sources.from.recipe);
  const sourceRefs = Object.fromEntries(
    Object.entries<OpenedSource>(sources).map(([name, s]) => [name, s.ref]),
  );
  const ckpt = openStage<S>(stage, o, sourceRefs);
  return {
    stage,
    run: o,
    device,
    sources,
    sourceRefs,
    recipes,
    ckpt,
    settings: resolveSettings<S['settings']>(
      o,
      settings.defaults(recipes, ckpt),
      settings.flags,
      ckpt && { settings: ckpt.state.settings, stateFile: ckpt.stateFile },
    ),
    log: (line) => (o.sink ?? process.stderr).write(`${line}\n`),
  };
}

/**
 * A stage's examples (`stageExamples`): the files its settings name (`--data`, `--heldout`), else
 * `generate`d ones kept under `names`; on a resume, checked to be the files the checkpoint was
 * trained on (`checkDataFiles`).
 */
export function tuningExamples<E, S extends TunedState, K extends string>(
  t: Tuning<S, K>,
  names: { train: string; heldout: string },
  generate: () => Splits<E>,
  parse: (value: unknown) => E,
): ReturnType<typeof stageExamples<E>> {
  const data = stageExamples(
    t.run.out,
    names,
    { train: t.settings.data ?? undefined, heldout: t.settings.heldout ?? undefined },
    generate,
    parse,
  );
  if (t.ckpt) checkDataFiles(data.files, t.ckpt.state.dataFiles, t.ckpt.stateFile);
  return data;
}

/** The examples of training step `step`: `batchSize` of them, in each epoch's seeded order (`batchIndices`). */
export function stepExamples<E>(
  t: { settings: StageSettings },
  examples: readonly E[],
  step: number,
): E[] {
  return batchIndices(examples.length, t.settings.batchSize, step, t.settings.seed).map(
    (i) => examples[i]!,
  );
}

/** A stage's training state, from `startTraining`. */
export interface Training {
  optimizer: Optimizer<BaseOptions>;
  schedule: Schedule;
  /** The run's steps. */
  total: number;
  /** The step the run starts at (0, or a resumed checkpoint's). */
  start: number;
  history: History;
  /** Every step's figures so far. */
  metrics: Record<string, number>[];
}

/**
 * A stage's training state: the optimizer over `params` (`tuningOptimizer`: `warmupSteps` of the
 * run's steps, each step making `updatesPerStep` updates), and on a resume the checkpoint's
 * optimizer state (`restoreOptimizer`), history and figures. Logs where a resumed run continues,
 * or `startLine` on a fresh run.
 */
export async function startTraining<S extends TunedState, K extends string>(
  t: Tuning<S, K>,
  params: T.Tensor[],
  warmupSteps: number,
  startLine: () => string,
  updatesPerStep = 1,
): Promise<Training> {
  const total = t.settings.steps;
  const { optimizer, schedule } = tuningOptimizer(
    params,
    t.settings.lr,
    warmupSteps * updatesPerStep,
    total * updatesPerStep,
  );
  const history: History = t.ckpt?.state.history ?? { trainLoss: [], val: [] };
  const metrics = t.ckpt?.state.metrics ?? [];
  const start = t.ckpt?.state.step ?? 0;
  if (t.ckpt) {
    await restoreOptimizer(optimizer, t.ckpt, t.device, updatesPerStep);
    t.log(`resumed ${t.run.out} at step ${start}/${total}`);
  } else t.log(startLine());
  return { optimizer, schedule, total, start, history, metrics };
}

/** The fields of `tessera.json` that `saveTuning` fills in from the run. */
type RunField = keyof TunedState;

/**
 * Saves a stage's checkpoint atomically (`saveCheckpoint`): `weights` and `files`, the optimizer
 * state, and `tessera.json` with the run's fields (step, recipe, the `model` config, settings,
 * sources, seed, history, figures, `dataFiles`) and the stage's own (`state`). Weights that are
 * not finite are never saved: the error names the tensor and says whether the previous
 * checkpoint is kept.
 */
export async function saveTuning<S extends TunedState, K extends string>(
  t: Tuning<S, K>,
  tr: Training,
  step: number,
  c: {
    weights: Record<string, Uint8Array>;
    files: Record<string, Uint8Array | string>;
    model: TransformerConfig;
    dataFiles: StageState['dataFiles'];
    state?: Omit<S, RunField>;
  },
): Promise<void> {
  const state: Omit<StageState, 'format' | 'version' | 'files' | 'optimizer'> = {
    stage: t.stage,
    step,
    totalSteps: tr.total,
    recipe: t.sources.from.recipe,
    model: c.model,
    settings: t.settings,
    sources: t.sourceRefs,
    seed: t.settings.seed,
    history: tr.history,
    metrics: tr.metrics,
    dataFiles: c.dataFiles,
    ...c.state,
  };
  await saveCheckpoint(t.run.out, t.stage, {
    weights: c.weights,
    files: c.files,
    optimizer: tr.optimizer,
    state,
  });
}

/** What a stage's loop runs (its `runStageLoop` options), and the line it logs of the figures before training. */
export type TuningLoop<Batch> = Pick<
  StageLoopOptions<Batch>,
  'files' | 'evalEvery' | 'data' | 'step' | 'evaluate' | 'save'
> & { before: (e: Evaluation) => string };

/** What every stage's result holds. */
export interface TrainedStage {
  /** Steps done (a stopped run's fewer than `totalSteps`). */
  steps: number;
  totalSteps: number;
  history: History;
  /** Held-out figures of the starting model (step 0) and of the tuned one. */
  before: Evaluation;
  after: Evaluation;
  loop: StageLoopResult;
}

/**
 * Trains a stage: a fresh run first evaluates the starting model (step 0 of the history, logged
 * with `before`), then `runStageLoop` runs from where the run stands.
 */
export async function trainStage<S extends TunedState, K extends string, Batch>(
  t: Tuning<S, K>,
  tr: Training,
  { before: describe, ...l }: TuningLoop<Batch>,
): Promise<TrainedStage> {
  if (!t.ckpt) {
    const before = await l.evaluate();
    tr.history.val.push({ step: 0, ...before });
    t.log(`before training: ${describe(before)}`);
  }
  const loop = await runStageLoop({
    ...l,
    resumed: t.ckpt,
    stage: t.stage,
    run: t.run,
    seed: t.settings.seed,
    device: t.device,
    start: tr.start,
    total: tr.total,
    history: tr.history,
    metrics: tr.metrics,
  });
  return {
    steps: loop.steps,
    totalSteps: tr.total,
    history: tr.history,
    before: tr.history.val[0]!,
    after: tr.history.val.at(-1)!,
    loop,
  };
}

/** A share as a percentage with one decimal (undefined as 0). */
export function percent(x: number | undefined): string {
  return `${(100 * (x ?? 0)).toFixed(1)}%`;
}

/** `before → after` of a held-out figure, each written by `format` (default `percent`). */
export function change(
  r: Pick<TrainedStage, 'before' | 'after'>,
  key: string,
  format: (x: number | undefined) => string = percent,
): string {
  return `${format(r.before[key])} → ${format(r.after[key])}`;
}

/** A figure with `digits` decimals (`undefined` where there is none). */
export const decimals =
  (digits: number) =>
  (x: number | undefined): string =>
    `${x?.toFixed(digits)}`;

/**
 * The report facts of how a stage ran: the steps done (each of `per`, when given) and why it
 * stopped early, its speed (`throughput`: what follows the tokens/s figure; or `speed`, a fact of
 * the stage's own in its place), and the peak device memory.
 */
export function runFacts(
  r: TrainedStage,
  o: { per?: string } & ({ throughput: string } | { speed: [string, string] }),
): [string, string][] {
  return [
    ['steps', `${r.steps}${stoppedNote(r.loop, r.totalSteps)}${o.per ? ` of ${o.per}` : ''}`],
    'speed' in o
      ? o.speed
      : ['throughput', `${Math.round(r.loop.tokensPerSecond)} ${o.throughput}`],
    ['peak device memory', formatBytes(r.loop.peakBytes)],
  ];
}

/** The report fact of the accuracy on each task's held-out examples. */
export function accuracyByTask(
  byTask: Record<string, number | { accuracy: number }>,
): [string, string] {
  return [
    'accuracy by task',
    Object.entries(byTask)
      .map(([task, a]) => `${task} ${percent(typeof a === 'number' ? a : a.accuracy)}`)
      .join(', '),
  ];
}

/**
 * What every stage's report summary opens with: the stage, its recipe (and `settings`, when
 * given), the steps, why it stopped, its speed and peak device memory.
 */
export function runSummary(
  stage: StageName,
  recipe: string,
  r: TrainedStage,
  settings?: object,
): Record<string, unknown> {
  return {
    stage,
    recipe,
    ...(settings && { settings }),
    steps: r.steps,
    totalSteps: r.totalSteps,
    stopReason: r.loop.stopReason ?? null,
    tokensPerSecond: Math.round(r.loop.tokensPerSecond),
    peakBytes: r.loop.peakBytes,
  };
}

/** The report summary of the held-out figures before and after, and the replies: per task, and the first ten. */
export function repliesSummary(
  r: Pick<TrainedStage, 'before' | 'after'>,
  scores: ReplyScores,
): Record<string, unknown> {
  return {
    before: r.before,
    after: r.after,
    byTask: scores.byTask,
    samples: scores.answers.slice(0, 10),
  };
}

/** A panel of the figure `key` on the training batches (every step) and on the held-out set (at evaluations). */
export function trainAndHeldoutPanel(
  title: string,
  key: string,
  metrics: readonly Record<string, number>[],
  history: History,
): Panel {
  return {
    title,
    curves: [
      { name: 'train', points: perStep(metrics, key), perStep: true },
      { name: 'held-out', points: atEvaluations(history, key) },
    ],
  };
}

/** A panel of the held-out questions' task accuracy (the evaluations' figure `accuracy`) and format compliance. */
export function questionsPanel(title: string, history: History, accuracy = 'accuracy'): Panel {
  return {
    title,
    curves: [
      { name: 'task accuracy', points: atEvaluations(history, accuracy) },
      { name: 'format compliance', points: atEvaluations(history, 'format') },
    ],
  };
}
