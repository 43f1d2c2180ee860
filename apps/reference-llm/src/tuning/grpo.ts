import {
  type DrawnGroups,
  fillGroups,
  type GrpoStepOptions,
  type GrpoStepResult,
  grpoStatistics,
  grpoStep,
  overlongPenalty,
  sampleGroups,
  scoreCompletions,
} from '@tessera/grpo';
import type { Schedule } from '@tessera/optim';
import { decoderConfig } from '../hf-config.js';
import type { Evaluation } from '../loop.js';
import { FILES } from '../run-folder.js';
import { huggingFaceFiles } from '../save-checkpoint.js';
import { ARITHMETIC_FILES, answerReward, arithmeticData, formatReward } from './arithmetic.js';
import { readChatModel } from './chat-model.js';
import { batchIndices } from './examples.js';
import { heldoutLoss } from './heldout-loss.js';
import { parseChatExample } from './jsonl.js';
import { majorityVoteAccuracy, type VoteAccuracy } from './majority-vote.js';
import { type ReplyScores, scoreReplies } from './replies.js';
import {
  atEvaluations,
  change,
  openTuning,
  percent,
  perStep,
  runFacts,
  runSummary,
  STAGE_FLAGS,
  type StageSettings,
  type StageState,
  saveTuning,
  startTraining,
  stepExamples,
  type TrainedStage,
  type TuningOptions,
  trainStage,
  tuningExamples,
  writeStageReport,
} from './stage.js';

/** The loss aggregations the stage offers (`@tessera/grpo`'s `lossType`). */
export const GRPO_LOSSES = ['grpo', 'dr_grpo', 'dapo'] as const;
export type GrpoLossName = (typeof GRPO_LOSSES)[number];

/** The weight of the format reward beside the answer's (1). */
const FORMAT_WEIGHT = 0.1;

/** A training problem: its prompt's token ids and the reference reply the rewards read. */
interface Problem {
  ids: number[];
  reference: string;
}

/** A group as dynamic sampling keeps it: the prompt and its G completions. */
interface Group {
  ids: number[];
  completions: number[][];
  /** Each completion's reward, the weighted sum of the reward functions. */
  rewards: number[];
}

/** A scored generation batch: each completion's length (tokens) and rewards. */
interface Scored {
  lengths: number[];
  rewards: Float64Array;
  perFunction: Float64Array[];
}

export interface GrpoOptions extends TuningOptions {
  /** The run folder of the chat model to tune (`sft`); with β > 0 also the frozen reference. */
  from: string;
  /** `grpo` (mean per sequence, std-scaled advantages; the default), `dr_grpo` (constant normaliser, unscaled advantages) or `dapo` (token mean, clip-higher, dynamic sampling). */
  loss?: GrpoLossName;
  /** Problems: chats (JSONL `{"messages": [...]}`) whose last reply ends with `Answer: <number>`; default generated. */
  data?: string;
  /** Held-out problems, same format; default generated. */
  heldout?: string;
  steps?: number;
  /** Prompts per step. */
  batchSize?: number;
  /** Completions per prompt (G). */
  group?: number;
  beta?: number;
  lr?: number;
  /** Passes over each generation batch (μ). */
  iterations?: number;
  maxNewTokens?: number;
  temperature?: number;
  /** With `dapo`: generation batches drawn at most per step to fill it with groups whose rewards differ. Default 3. */
  maxDraws?: number;
  /**
   * Tokens before `maxNewTokens` over which DAPO's soft overlong penalty falls from 0 to −1
   * (added to the reward; any loss); default 0, off.
   */
  overlongBuffer?: number;
  /** Sample counts of the majority-vote evaluation at the end; `[]` skips it. Default 1, 4, 16. */
  votes?: number[];
}

interface GrpoSettings extends StageSettings {
  loss: GrpoLossName;
  group: number;
  beta: number;
  iterations: number;
  maxNewTokens: number;
  temperature: number;
  maxDraws: number;
  overlongBuffer: number;
}

const FLAGS: Record<keyof GrpoSettings, string> = {
  ...STAGE_FLAGS,
  loss: '--loss',
  group: '--group',
  beta: '--beta',
  iterations: '--iterations',
  maxNewTokens: '--max-new-tokens',
  temperature: '--temperature',
  maxDraws: '--max-draws',
  overlongBuffer: '--overlong-buffer',
};

/** `tessera.json` of a GRPO checkpoint. */
export interface GrpoState extends StageState {
  stage: 'grpo';
  settings: GrpoSettings;
}

export interface GrpoResult extends TrainedStage {
  scores: ReplyScores;
  /** Held-out accuracy of the tuned model with majority voting over 1, 4, 16 samples. */
  votes?: VoteAccuracy;
  /** Every step's figures: reward, accuracy, lengths, KL, clip fractions, generation and training time. */
  metrics: Record<string, number>[];
}

/** The `grpoStep` options of each loss: Dr. GRPO does not scale by the std; DAPO clips higher. */
function lossOptions(s: GrpoSettings): Omit<GrpoStepOptions, 'groupSize'> {
  const common = { beta: s.beta, iterations: s.iterations, temperature: s.temperature };
  if (s.loss === 'dr_grpo')
    return {
      ...common,
      lossType: 'dr_grpo',
      scaleRewards: 'none',
      maxCompletionLength: s.maxNewTokens,
    };
  if (s.loss === 'dapo') return { ...common, lossType: 'dapo', epsilonHigh: 0.28 };
  return { ...common, lossType: 'grpo' };
}

/**
 * GRPO on verifiable arithmetic, as DeepSeekMath and TRL `GRPOTrainer`: each step samples
 * `group` completions of each of `batchSize` problems from the policy (`sampleGroups`), rewards
 * each with its answer's correctness plus a small format reward (plain functions of the text),
 * and trains on the group-relative advantages (`grpoStep`, `iterations` passes, the chosen
 * `loss`). With `dapo`, groups whose answers are all right or all wrong are dropped before the
 * update and refilled from more problems (DAPO's dynamic sampling, up to `maxDraws` draws). Reward, accuracy, completion lengths (correct vs
 * incorrect), KL, clip fractions and the time split between generation and training are
 * recorded every step; held-out greedy accuracy at intervals, and majority-vote accuracy at the
 * end.
 */
export async function grpo(o: GrpoOptions): Promise<GrpoResult> {
  const t = openTuning<GrpoState>('grpo', o, {
    defaults: ({ grpo: recipe }) => ({
      loss: 'grpo',
      steps: recipe.steps,
      batchSize: recipe.batchSize,
      group: recipe.groupSize,
      beta: recipe.beta,
      lr: recipe.lr,
      seed: 1,
      data: null,
      heldout: null,
      iterations: recipe.iterations,
      maxNewTokens: recipe.maxNewTokens,
      temperature: 1,
      maxDraws: 3,
      overlongBuffer: 0,
    }),
    flags: FLAGS,
  });
  const { device, ckpt, settings, log } = t;
  if (settings.overlongBuffer > settings.maxNewTokens)
    throw new RangeError(
      `--overlong-buffer ${settings.overlongBuffer} must be at most --max-new-tokens ${settings.maxNewTokens}`,
    );
  const source = t.sources.from;
  const recipe = t.recipes.grpo;

  const { model: policy, chat } = readChatModel(ckpt ?? source.ckpt, device);
  const reference = settings.beta > 0 ? readChatModel(source.ckpt, device).model : undefined;
  for (const p of reference?.parameters() ?? []) p.requiresGrad = false;
  for (const m of [policy, reference]) m?.eval(); // dropout off: ratio 1 at the first update
  const window = policy.config.maxSeqLen;

  const data = tuningExamples(
    t,
    ARITHMETIC_FILES,
    () => arithmeticData(settings.seed, { train: recipe.train, heldout: recipe.heldout }),
    parseChatExample,
  );
  const problems: Problem[] = data.train.flatMap((e) => {
    const ids = chat.promptIds(e.messages.slice(0, -1));
    return ids.length + settings.maxNewTokens <= window
      ? [{ ids, reference: e.messages.at(-1)!.content }]
      : [];
  });
  if (problems.length < data.train.length)
    log(
      `${data.train.length - problems.length} problems leave fewer than ${settings.maxNewTokens} tokens of the ${window}-token window: left out`,
    );
  if (problems.length === 0)
    throw new Error(
      `no problem fits the model's window of ${window} tokens with --max-new-tokens ${settings.maxNewTokens}`,
    );

  const training = await startTraining(
    t,
    policy.parameters(),
    recipe.warmupSteps,
    () =>
      `GRPO (${settings.loss}) from ${o.from} (step ${source.ref.step}): ${problems.length} problems, ${data.heldout.length} held out; ${settings.steps} steps of ${settings.batchSize} prompts × ${settings.group} completions × ${settings.iterations} passes; β ${settings.beta}; device ${device.info.adapter}`,
    settings.iterations,
  );
  const { optimizer } = training;

  let scores: ReplyScores | undefined;
  const evaluate = async (): Promise<Evaluation> => {
    scores = await scoreReplies(policy, chat, data.heldout, {
      maxNewTokens: settings.maxNewTokens,
    });
    return {
      loss: await heldoutLoss(policy, chat, data.heldout, 32),
      accuracy: scores.accuracy,
      format: scores.format,
    };
  };
  const save = async (step: number) =>
    saveTuning(t, training, step, {
      weights: { [FILES.model]: await policy.save() },
      files: huggingFaceFiles(chat.tokenizer, decoderConfig(policy, { eos: chat.endId })),
      model: policy.config,
      dataFiles: data.files,
    });

  const stepOptions = lossOptions(settings);
  // The rewards: the answer's correctness, the format, and with a buffer DAPO's overlong penalty.
  const overlongBuffer = settings.overlongBuffer;
  const overlong = (_: string, e: { length: number }) =>
    overlongPenalty(e.length, { maxLength: settings.maxNewTokens, bufferLength: overlongBuffer });
  const rewardFunctions = [answerReward, formatReward, ...(overlongBuffer > 0 ? [overlong] : [])];
  const rewardWeights = [1, FORMAT_WEIGHT, 1].slice(0, rewardFunctions.length);
  const trained = await trainStage(t, training, {
    files: data.pending,
    evalEvery: recipe.evalEvery,
    data: (step) => stepExamples(t, problems, step),
    step: async (batch, step) => {
      const g = settings.group;
      const draws = settings.loss === 'dapo' ? settings.maxDraws : 1;
      const drawn: Scored[] = [];
      let generationMs = 0;
      // One generation batch: G completions of each prompt, sampled and scored.
      const draw = async (prompts: Problem[], k: number): Promise<DrawnGroups<Group>> => {
        const started = performance.now();
        const completions = await sampleGroups(
          policy,
          prompts.map((p) => p.ids),
          {
            groupSize: g,
            maxNewTokens: settings.maxNewTokens,
            temperature: settings.temperature,
            stopTokenIds: [chat.endId],
            seed: settings.seed * 1_000_003 + (step * draws + k) * settings.batchSize * g,
          },
        );
        generationMs += performance.now() - started;
        const lengths = completions.map((c) => c.length);
        const scores = scoreCompletions(
          completions.map((ids) => chat.tokenizer.decode(ids)),
          completions.map((_, i) => ({
            reference: prompts[Math.floor(i / g)]!.reference,
            length: lengths[i]!,
          })),
          rewardFunctions,
          rewardWeights,
        );
        drawn.push({ lengths, ...scores });
        return {
          groups: prompts.map((p, j) => ({
            ids: p.ids,
            completions: completions.slice(j * g, (j + 1) * g),
            rewards: Array.from(scores.rewards.subarray(j * g, (j + 1) * g)),
          })),
          // What dynamic sampling filters on: the answers' correctness, as DAPO (eq. 11) does.
          rewards: scores.perFunction[0]!,
        };
      };
      // DAPO's dynamic sampling: groups whose answers are all right or all wrong carry no signal
      // on correctness; they are dropped and more problems drawn (a second seeded order of the
      // problems) to refill.
      const train =
        settings.loss === 'dapo'
          ? await fillGroups(
              (k) =>
                draw(
                  k === 0
                    ? batch
                    : batchIndices(
                        problems.length,
                        settings.batchSize,
                        step * (draws - 1) + k - 1,
                        settings.seed + 1,
                      ).map((i) => problems[i]!),
                  k,
                ),
              { groupSize: g, targetGroups: batch.length, maxDraws: draws },
            )
          : await draw(batch, 0);
      const all = (pick: (d: Scored) => ArrayLike<number>) =>
        drawn.flatMap((d) => Array.from(pick(d)));
      const [rewards, lengths, correct] = [
        all((d) => d.rewards),
        all((d) => d.lengths),
        all((d) => d.perFunction[0]!),
      ];
      const stats = await grpoStatistics({
        rewards: Float64Array.from(rewards),
        groupSize: g,
        lengths,
        correct: Float64Array.from(correct),
      });
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const trainingStarted = performance.now();
      let update: Partial<GrpoStepResult> = {};
      if (train.groups.length > 0)
        update = await grpoStep(
          { policy, ...(reference && { reference }) },
          optimizer,
          {
            prompts: train.groups.map((q) => q.ids),
            completions: train.groups.flatMap((q) => q.completions),
            rewards: train.groups.flatMap((q) => q.rewards),
          },
          { ...stepOptions, groupSize: g, seed: step, padId: chat.endId },
        );
      else for (let i = 0; i < settings.iterations; i++) optimizer.step(); // no gradient: only the schedule moves
      const trainingSeconds = (performance.now() - trainingStarted) / 1000;
      const tokens = lengths.reduce((a, b) => a + b, 0);
      const solved = (groupStart: number) =>
        correct.slice(groupStart, groupStart + g).some((c) => c > 0);
      const figures: Record<string, number | undefined> = {
        reward: stats.meanReward,
        rewardStd: stats.rewardStd,
        accuracy: stats.accuracy,
        format: mean(all((d) => d.perFunction[1]!)),
        overlong: overlongBuffer > 0 ? mean(all((d) => d.perFunction[2]!)) : undefined,
        length: stats.meanLength,
        lengthCorrect: stats.meanLengthCorrect,
        lengthIncorrect: stats.meanLengthIncorrect,
        zeroStdGroups: stats.zeroStdGroups,
        solvedGroups: mean(
          Array.from({ length: rewards.length / g }, (_, k) => (solved(k * g) ? 1 : 0)),
        ),
        // Groups DAPO's dynamic sampling keeps: some answers right, some wrong.
        mixedGroups: mean(
          Array.from({ length: rewards.length / g }, (_, k) =>
            solved(k * g) && !correct.slice(k * g, (k + 1) * g).every((c) => c > 0) ? 1 : 0,
          ),
        ),
        draws: drawn.length,
        drawnGroups: rewards.length / g,
        groupsTrained: train.groups.length,
        kl: update.kl,
        clipLow: update.clipLow,
        clipHigh: update.clipHigh,
        clipRegion: update.clipRegion,
        generationSeconds: generationMs / 1000,
        trainingSeconds,
        generatedTokens: tokens,
        trainedTokens: (update.tokens ?? 0) * settings.iterations,
      };
      return {
        loss: update.loss ?? 0,
        tokens,
        metrics: Object.fromEntries(
          Object.entries(figures).filter((e): e is [string, number] => e[1] !== undefined),
        ),
      };
    },
    evaluate,
    before: (e) => `held-out accuracy ${e.accuracy}, format ${e.format}`,
    save,
  });
  scores ??= await scoreReplies(policy, chat, data.heldout, {
    maxNewTokens: settings.maxNewTokens,
  });
  const votes = o.votes ?? [1, 4, 16];
  const result: GrpoResult = {
    ...trained,
    scores,
    ...(votes.length > 0 && {
      votes: await majorityVoteAccuracy(policy, chat, data.heldout, {
        samples: votes,
        maxNewTokens: settings.maxNewTokens,
        temperature: settings.temperature,
        seed: settings.seed,
      }),
    }),
    metrics: training.metrics,
  };
  writeGrpoReport(o, result, { recipe: source.recipe, schedule: training.schedule, settings });
  for (const m of [policy, reference]) m?.dispose();
  return result;
}

/** Generation and training time over the steps, and tokens/s of each. */
export function timeSplit(metrics: readonly Record<string, number>[]): {
  generationSeconds: number;
  trainingSeconds: number;
  generationTokensPerSecond: number;
  trainingTokensPerSecond: number;
} {
  const sum = (key: string) => metrics.reduce((s, m) => s + (m[key] ?? 0), 0);
  const [generationSeconds, trainingSeconds] = [sum('generationSeconds'), sum('trainingSeconds')];
  return {
    generationSeconds,
    trainingSeconds,
    generationTokensPerSecond: sum('generatedTokens') / Math.max(generationSeconds, 1e-9),
    trainingTokensPerSecond: sum('trainedTokens') / Math.max(trainingSeconds, 1e-9),
  };
}

function writeGrpoReport(
  o: GrpoOptions,
  r: GrpoResult,
  meta: { recipe: string; schedule: Schedule; settings: GrpoSettings },
): void {
  const mean = (key: string, part: Record<string, number>[]) => {
    const values = part.flatMap((m) => (m[key] === undefined ? [] : [m[key]]));
    return values.reduce((s, v) => s + v, 0) / Math.max(values.length, 1);
  };
  const tenth = Math.max(1, Math.floor(r.metrics.length / 10));
  const [first, last] = [r.metrics.slice(0, tenth), r.metrics.slice(-tenth)];
  const time = timeSplit(r.metrics);
  const share =
    time.generationSeconds / Math.max(time.generationSeconds + time.trainingSeconds, 1e-9);
  writeStageReport(o.out, {
    loop: r.loop,
    metrics: r.metrics,
    title: `reference-llm grpo (${meta.settings.loss}): ${meta.recipe}`,
    facts: [
      ['from', o.from],
      ...runFacts(r, {
        per: `${meta.settings.batchSize} prompts × ${meta.settings.group} completions`,
        speed: [
          'time split',
          `generation ${time.generationSeconds.toFixed(1)} s (${percent(share)}, ${Math.round(time.generationTokensPerSecond)} tokens/s), training ${time.trainingSeconds.toFixed(1)} s (${Math.round(time.trainingTokensPerSecond)} tokens/s over ${meta.settings.iterations} passes)`,
        ],
      }),
      [
        'mean reward of the samples (first → last tenth of the steps)',
        `${mean('reward', first).toFixed(3)} → ${mean('reward', last).toFixed(3)}`,
      ],
      [
        'sample accuracy (first → last tenth)',
        `${percent(mean('accuracy', first))} → ${percent(mean('accuracy', last))}`,
      ],
      [
        'groups with a right answer, pass@G (first → last tenth)',
        `${percent(mean('solvedGroups', first))} → ${percent(mean('solvedGroups', last))}`,
      ],
      [
        'groups whose rewards are all equal (first → last tenth)',
        `${percent(mean('zeroStdGroups', first))} → ${percent(mean('zeroStdGroups', last))}`,
      ],
      [
        'mean length of incorrect samples, tokens (first → last tenth)',
        `${mean('lengthIncorrect', first).toFixed(1)} → ${mean('lengthIncorrect', last).toFixed(1)}`,
      ],
      ['held-out accuracy, greedy (SFT model → GRPO model)', change(r, 'accuracy')],
      ['held-out format compliance', change(r, 'format')],
      ...(r.votes
        ? [
            [
              'held-out accuracy, majority of k samples',
              Object.entries(r.votes.accuracy)
                .map(([k, a]) => `k=${k} ${percent(a)}`)
                .join(', '),
            ] as [string, string],
          ]
        : []),
    ],
    summary: {
      ...runSummary('grpo', meta.recipe, r, meta.settings),
      time,
      before: r.before,
      after: r.after,
      votes: r.votes?.accuracy ?? null,
      samples: r.scores.answers.slice(0, 10),
    },
    history: r.history,
    schedule: meta.schedule,
    panels: [
      {
        title: 'reward',
        curves: [
          { name: 'mean sample reward', points: perStep(r.metrics, 'reward'), perStep: true },
        ],
      },
      {
        title: 'accuracy',
        curves: [
          { name: 'samples', points: perStep(r.metrics, 'accuracy'), perStep: true },
          { name: 'held-out, greedy', points: atEvaluations(r.history, 'accuracy') },
        ],
      },
      {
        title: 'completion length (tokens)',
        curves: [
          { name: 'correct', points: perStep(r.metrics, 'lengthCorrect'), perStep: true },
          { name: 'incorrect', points: perStep(r.metrics, 'lengthIncorrect'), perStep: true },
        ],
      },
      {
        title: 'policy',
        curves: [
          { name: 'zero-std groups', points: perStep(r.metrics, 'zeroStdGroups'), perStep: true },
          { name: 'pass@G', points: perStep(r.metrics, 'solvedGroups'), perStep: true },
          { name: 'clip fraction', points: perStep(r.metrics, 'clipRegion'), perStep: true },
          ...(meta.settings.beta > 0
            ? [{ name: 'KL to start', points: perStep(r.metrics, 'kl'), perStep: true }]
            : []),
        ],
      },
    ],
  });
}
