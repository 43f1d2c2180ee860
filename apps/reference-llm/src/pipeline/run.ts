import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Device } from '@tessera/tensor-webgpu';
import { writeAtomic } from '../atomic-write.js';
import type { StopReason, StopSignal } from '../loop.js';
import type { Preset } from '../presets.js';
import { type PretrainState, resolvePreset } from '../pretrain.js';
import { formatSeconds, type ProgressSink, stderrSink } from '../progress.js';
import { FILES, readCheckpoint } from '../run-folder.js';
import { DATA_FILES } from '../tuning/data-files.js';
import type { TuningRecipe } from '../tuning/recipes.js';
import { checkOut, estimateStageBytes } from './disk.js';
import { evaluateStage, type StageAnswer, type StageRow } from './evaluation.js';
import { EXTRA_STAGES, type ExtraSettings } from './extra-stages.js';
import { readExtras } from './extras-report.js';
import { endpointJudge, type JudgeEndpoint, judgeStages } from './judge.js';
import { stageSamples, writePipelineReport } from './report.js';
import { judgeCard, selfEnhancementCaveat, stageCheckpoints } from './self-enhancement.js';
import { PIPELINE_STAGES, type PipelineContext, stageState } from './stages.js';

/** The stage that measures every trained stage and writes the pipeline's report. */
export const EVAL_STAGE = 'eval';

/** The stage that ends the pipeline by serving the final model (`reference-llm serve`'s code). */
export const SERVE_STAGE = 'serve';

/** Every stage name `--stages` takes, in the order they run. */
export const STAGE_NAMES: readonly string[] = [
  ...PIPELINE_STAGES.map((s) => s.name),
  ...EXTRA_STAGES.map((s) => s.name),
  EVAL_STAGE,
  SERVE_STAGE,
];

/**
 * The stages run when `--stages` is not given: the chain's training stages and the evaluation.
 * The run then ends by printing the serve command; `serve` (it does not return) and the optional
 * stages (`EXTRA_STAGES`) are asked for by name.
 */
export const DEFAULT_STAGES: readonly string[] = STAGE_NAMES.filter(
  (s) => s !== SERVE_STAGE && !EXTRA_STAGES.some((e) => e.name === s),
);

/** Every stage that trains, in order: the chain's, then the optional ones, each with its state. */
const TRAINING_STAGES = [
  ...PIPELINE_STAGES.map((s) => ({ ...s, state: stageState })),
  ...EXTRA_STAGES,
];

/**
 * The pipeline's record (`pipeline.json`): the time spent per stage, summed over resumed runs,
 * and the `--steps` its stages ran with (null: each recipe's).
 */
export const TIMES_FILE = 'pipeline.json';

export interface PipelineOptions {
  /** The pipeline's folder; each stage writes `out/<stage>`, the report goes to `out`. */
  out: string;
  /** Pretraining's preset (name or preset); default `tiny`. */
  preset?: Preset | string;
  /** The stages to run (any order; they run in `STAGE_NAMES` order); default `DEFAULT_STAGES`. */
  stages?: readonly string[];
  recipe?: TuningRecipe;
  data?: string;
  /** Steps of every training stage; default each stage's recipe. */
  steps?: number;
  /** What the optional stages train; default `EXTRA_SETTINGS`. */
  extras?: ExtraSettings;
  device: Device;
  /** An OpenAI-compatible endpoint that judges the stages' replies pairwise (`judgeStages`); default none. */
  judge?: JudgeEndpoint;
  stop?: StopSignal;
  /** Progress bars and the one-line status of each stage; default standard error. */
  sink?: ProgressSink;
  /** Free bytes on `out`'s file system; default `statfs`'s (`freeBytes`). */
  freeBytes?: (dir: string) => number;
}

/** How a pipeline run ended. */
export interface PipelineResult {
  /** The stage a signal or the time limit stopped, if one did. */
  stopped?: { stage: string; reason: StopReason };
  /** The evaluation table, when the `eval` stage ran. */
  rows?: StageRow[];
  /** The folder of the last finished stage `serve` can serve (GRPO's, else PPO's, …), if any. */
  final?: string;
  /** Whether the `serve` stage was chosen: the caller serves `final` (`startServing`). */
  serve: boolean;
}

/** Seconds each stage has trained, summed over the runs that resumed it. */
export type StageTimes = Record<string, number>;

/** Checks `--stages`: known names, and each stage's inputs either run now or complete in `out`. */
export function resolveStages(out: string, stages: readonly string[] = DEFAULT_STAGES): string[] {
  for (const s of stages)
    if (!STAGE_NAMES.includes(s))
      throw new Error(
        `--stages: unknown stage ${JSON.stringify(s)}; expected a comma-separated list of ${STAGE_NAMES.join(', ')}`,
      );
  const chosen = STAGE_NAMES.filter((s) => stages.includes(s));
  for (const stage of PIPELINE_STAGES.filter((s) => chosen.includes(s.name)))
    for (const need of stage.needs)
      if (!chosen.includes(need) && stageState(join(out, need)) !== 'complete')
        throw new Error(
          `--stages: ${stage.name} starts from ${need}, which is neither in --stages nor complete in ${join(out, need)}; add ${need} to --stages`,
        );
  const servable = PIPELINE_STAGES.filter((s) => s.servable).map((s) => s.name);
  if (
    chosen.includes(SERVE_STAGE) &&
    !servable.some((s) => chosen.includes(s) || stageState(join(out, s)) === 'complete')
  )
    throw new Error(
      `--stages: ${SERVE_STAGE} serves the last finished model, and none of ${servable.join(', ')} is in --stages or complete in ${out}; add one to --stages`,
    );
  return chosen;
}

function readRecord(out: string): { seconds?: StageTimes; steps?: number | null } {
  const path = join(out, TIMES_FILE);
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {};
}

/**
 * Refuses a pipeline folder whose stages ran with another `--steps` (a trial run's stages would
 * otherwise be skipped as finished and reported as a full run's). Folders recorded before the
 * steps were are not checked.
 *
 * @throws Error - naming the folder, both settings and what to do
 */
function checkSteps(out: string, steps: number | undefined): void {
  const was = readRecord(out).steps;
  if (was === undefined || was === (steps ?? null)) return;
  const setting = (s: number | null) => (s === null ? "each recipe's steps" : `--steps ${s}`);
  throw new Error(
    `--out ${out}: its stages ran with ${setting(was)}, not ${setting(steps ?? null)}; ${was === null ? 'leave --steps out' : `pass --steps ${was}`} to go on with it, or give a new --out`,
  );
}

/**
 * Runs the pipeline: each chosen training stage through the function its own command calls
 * (`PIPELINE_STAGES`, then the optional `EXTRA_STAGES`), from the checkpoints of the stages
 * before it. A stage whose folder holds
 * a finished run is skipped, one with a checkpoint short of its last step is resumed, an empty
 * one starts; each prints one status line. A signal or the time limit stops the pipeline after
 * the stage saved (the same command resumes it). The `eval` stage measures every finished stage
 * (`evaluateStage`, each row kept in `out/eval/<stage>.json` for that checkpoint; the held-out
 * preference pairs are those the `dpo` or `reward` stage wrote, else generated alike) and writes
 * `report.json`, `report.md` and `report.html` into `out`; with `judge`, an LLM judge compares
 * every stage's replies with the SFT model's (`judgeStages`) and the report shows its verdicts,
 * with the self-enhancement caveat where the judge is not independent (`selfEnhancementCaveat`);
 * the optional stages' results found in `out` join it (`readExtras`). The `serve` stage is the
 * caller's: the result names the final model and whether to serve it.
 *
 * @throws Error - a bad `--stages`, an unwritable `out` or too little space free there for the
 *   stages to train (`checkOut`, before any training); a stage that fails, naming it, the cause
 *   and how to resume
 */
export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  const chosen = resolveStages(o.out, o.stages);
  checkPreset(o.out, resolvePreset(o.preset ?? 'tiny').name);
  checkSteps(o.out, o.steps);
  const training = TRAINING_STAGES.filter(
    (s) => chosen.includes(s.name) && s.state(join(o.out, s.name)) !== 'complete',
  ).map((s) => s.name);
  checkOut(
    o.out,
    estimateStageBytes(resolvePreset(o.preset ?? 'tiny'), training.length),
    `the ${training.length} stage${training.length === 1 ? '' : 's'} to train (${training.join(', ') || 'none'})`,
    o.freeBytes,
  );
  const sink = o.sink ?? stderrSink;
  const status = (line: string) => sink.write(`${line}\n`);
  const context: PipelineContext = {
    out: o.out,
    preset: o.preset ?? 'tiny',
    recipe: o.recipe,
    data: o.data,
    steps: o.steps,
    extras: o.extras,
    device: o.device,
    stop: o.stop ?? {},
    sink,
  };
  const times = readRecord(o.out).seconds ?? {};
  for (const stage of TRAINING_STAGES.filter((s) => chosen.includes(s.name))) {
    const dir = join(o.out, stage.name);
    const state = stage.state(dir);
    if (state === 'complete') {
      status(`${stage.name}: complete in ${dir}, skipped`);
      continue;
    }
    const resume = state === 'partial';
    status(
      resume
        ? `${stage.name}: resuming ${dir} ${existsSync(join(dir, FILES.pointer)) ? `from step ${readCheckpoint(dir).state.step}` : '(its finished parts are kept)'}`
        : `${stage.name}: training into ${dir}`,
    );
    const started = performance.now();
    let outcome: Awaited<ReturnType<typeof stage.run>>;
    try {
      outcome = await stage.run(context, dir, resume);
    } catch (e) {
      throw new Error(
        `pipeline stage ${stage.name} failed: ${(e as Error).message}\nFix the cause and run the same pipeline command again: finished stages are skipped and ${stage.name} ${existsSync(join(dir, FILES.pointer)) ? 'resumes from its last checkpoint' : 'starts over'}.`,
      );
    } finally {
      times[stage.name] = (times[stage.name] ?? 0) + (performance.now() - started) / 1000;
      try {
        writeAtomic(
          join(o.out, TIMES_FILE),
          `${JSON.stringify({ steps: o.steps ?? null, seconds: times }, null, 1)}\n`,
        );
      } catch (e) {
        // A full disk fails this write too: the stage's own error (named above) is the one to see.
        status(`${TIMES_FILE}: the stage times could not be saved (${(e as Error).message})`);
      }
    }
    if (outcome.stopReason) {
      status(
        `${stage.name}: stopped (${outcome.stopReason}) at step ${outcome.steps} of ${outcome.totalSteps}; run the same pipeline command again to resume`,
      );
      return { stopped: { stage: stage.name, reason: outcome.stopReason }, serve: false };
    }
    status(
      `${stage.name}: done, ${outcome.steps} steps in ${formatSeconds(times[stage.name]!)} → ${dir}`,
    );
  }
  const final = PIPELINE_STAGES.filter((s) => s.servable)
    .map((s) => join(o.out, s.name))
    .filter((dir) => stageState(dir) === 'complete')
    .at(-1);
  const serve = chosen.includes(SERVE_STAGE);
  if (!chosen.includes(EVAL_STAGE)) return { final, serve };
  // The judge is reached before the measuring starts: a wrong URL fails fast.
  const judge = o.judge && (await endpointJudge(o.judge));
  const measuring = performance.now();
  const evaluated = await evaluateStages(o, sink);
  if ('stopped' in evaluated) {
    status(
      `${EVAL_STAGE}: stopped (${evaluated.stopped}) before measuring every stage; run the same pipeline command again to finish (measured stages are kept)`,
    );
    return { stopped: { stage: EVAL_STAGE, reason: evaluated.stopped }, final, serve: false };
  }
  const { rows, answers } = evaluated;
  const caveat =
    judge &&
    selfEnhancementCaveat(await judgeCard(o.judge!.url, judge.id), stageCheckpoints(o.out));
  const judged =
    judge &&
    (await judgeStages(
      judge,
      o.judge!.url,
      answers,
      'sft' in answers ? 'sft' : 'pretrain',
      caveat,
    ));
  const from = Object.fromEntries(
    PIPELINE_STAGES.filter((s) => s.needs.length > 0).map((s) => [s.name, s.needs[0]!]),
  );
  writePipelineReport(o.out, {
    rows,
    judge: judged,
    samples: stageSamples(answers, from),
    seconds: times,
    tokensPerSecond: stageThroughputs(o.out, rows),
    extras: readExtras(o.out),
    config: {
      preset: typeof context.preset === 'string' ? context.preset : context.preset.name,
      stages: chosen,
      steps: o.steps ?? null,
      data: o.data ?? 'bundled',
      device: o.device.info.adapter,
    },
  });
  const took = formatSeconds((performance.now() - measuring) / 1000);
  status(
    `${EVAL_STAGE}: ${rows.length} stages measured${judged ? ' and judged' : ''} in ${took}; report in ${join(o.out, 'report.html')}`,
  );
  // A signal during the last measurement or the judge: the report is written, nothing is served.
  if (o.stop?.reason)
    return { rows, final, serve: false, stopped: { stage: EVAL_STAGE, reason: o.stop.reason } };
  return { rows, final, serve };
}

/**
 * Refuses a pipeline folder whose pretraining ran another preset: its finished stages would be
 * skipped and reported under the preset asked for now.
 *
 * @throws Error - naming the folder, both presets and what to do
 */
function checkPreset(out: string, preset: string): void {
  const dir = join(out, 'pretrain');
  if (stageState(dir) === 'empty') return;
  const was = readCheckpoint<PretrainState>(dir).state.preset?.name;
  if (was !== undefined && was !== preset)
    throw new Error(
      `--out ${out}: its pretraining ran the preset ${JSON.stringify(was)}, not ${JSON.stringify(preset)}; pass --preset ${was} to go on with it, or give a new --out`,
    );
}

/** Each measured stage's training tokens/s, as its own `report.json` records it. */
function stageThroughputs(out: string, rows: readonly StageRow[]): Record<string, number> {
  const rates: Record<string, number> = {};
  for (const { stage } of rows) {
    const report = join(out, stage, 'report.json');
    const rate = existsSync(report)
      ? JSON.parse(readFileSync(report, 'utf8')).tokensPerSecond
      : undefined;
    if (typeof rate === 'number') rates[stage] = rate;
  }
  return rates;
}

/**
 * Rows and replies of every finished stage, measured once per checkpoint (kept in `out/eval/`);
 * a stop signal ends it between two stages.
 */
async function evaluateStages(
  o: PipelineOptions,
  sink: ProgressSink,
): Promise<{ rows: StageRow[]; answers: Record<string, StageAnswer[]> } | { stopped: StopReason }> {
  const rows: StageRow[] = [];
  const answers: Record<string, StageAnswer[]> = {};
  const pretrain = join(o.out, 'pretrain');
  // The held-out pairs the reward model and DPO were measured on (the same seed, the same pairs).
  const pairs = ['dpo', 'reward']
    .map((s) => join(o.out, s, 'data', DATA_FILES.pairsHeldout))
    .find((path) => existsSync(path));
  for (const stage of PIPELINE_STAGES) {
    const dir = join(o.out, stage.name);
    if (stageState(dir) !== 'complete') continue;
    const model = readCheckpoint(dir).state.files[FILES.model];
    const cache = join(o.out, EVAL_STAGE, `${stage.name}.json`);
    if (existsSync(cache)) {
      const kept = JSON.parse(readFileSync(cache, 'utf8'));
      if (kept.model === model) {
        rows.push(kept.row);
        answers[stage.name] = kept.answers;
        continue;
      }
    }
    if (o.stop?.reason) return { stopped: o.stop.reason };
    sink.write(`${EVAL_STAGE}: measuring ${stage.name}\n`);
    const measured = await evaluateStage(stage.name, dir, {
      device: o.device,
      pretrain,
      recipe: o.recipe,
      pairs,
    });
    mkdirSync(join(o.out, EVAL_STAGE), { recursive: true });
    writeAtomic(cache, `${JSON.stringify({ model, ...measured }, null, 1)}\n`);
    rows.push(measured.row);
    answers[stage.name] = measured.answers;
  }
  return { rows, answers };
}
