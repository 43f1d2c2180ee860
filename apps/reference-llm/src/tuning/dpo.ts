import type { Schedule } from '@tessera/optim';
import { dpoEval, dpoStep, type PreferenceLossType } from '@tessera/rlhf';
import type { DecoderLM } from '@tessera/transformer';
import { decoderConfig } from '../hf-config.js';
import type { Evaluation } from '../loop.js';
import { FILES } from '../run-folder.js';
import { huggingFaceFiles } from '../save-checkpoint.js';
import { readChatModel } from './chat-model.js';
import { DATA_FILES } from './data-files.js';
import { instructionData, preferenceData } from './datasets.js';
import { sourceText } from './examples.js';
import { parseChatExample, parsePreferenceExample, readJsonl } from './jsonl.js';
import { encodePair, longPairs, pairBatch } from './pairs.js';
import { type ReplyScores, scoreReplies } from './replies.js';
import {
  accuracyByTask,
  change,
  decimals,
  openTuning,
  perStep,
  questionsPanel,
  repliesSummary,
  runFacts,
  runSummary,
  STAGE_FLAGS,
  type StageSettings,
  type StageState,
  saveTuning,
  stageDefaults,
  startTraining,
  stepExamples,
  type TrainedStage,
  type TuningOptions,
  trainAndHeldoutPanel,
  trainStage,
  tuningExamples,
  writeStageReport,
} from './stage.js';

export const PREFERENCE_LOSSES: readonly PreferenceLossType[] = [
  'sigmoid',
  'ipo',
  'hinge',
  'simpo',
];

export interface DpoOptions extends TuningOptions {
  /** The run folder of the chat model to tune (`sft`); it is also the frozen reference. */
  from: string;
  data?: string;
  heldout?: string;
  steps?: number;
  batchSize?: number;
  lr?: number;
  /** `sigmoid` (DPO, default), `ipo`, `hinge` or `simpo`. */
  loss?: PreferenceLossType;
  beta?: number;
  labelSmoothing?: number;
  /** Weight of the chosen replies' NLL added to the loss (RPO). */
  rpoAlpha?: number;
  /** Held-out questions with reference replies (JSONL `{"messages": [...]}`); default the generated ones `sft` measures. */
  questions?: string;
}

interface DpoSettings extends StageSettings {
  loss: PreferenceLossType;
  beta: number;
  labelSmoothing: number;
  rpoAlpha: number;
  questions: string | null;
}

const FLAGS: Record<keyof DpoSettings, string> = {
  ...STAGE_FLAGS,
  loss: '--loss',
  beta: '--beta',
  labelSmoothing: '--label-smoothing',
  rpoAlpha: '--rpo-alpha',
  questions: '--questions',
};

/** `tessera.json` of a DPO checkpoint. */
export interface DpoState extends StageState {
  stage: 'dpo';
  settings: DpoSettings;
}

/** In `before`, the starting (SFT) model's figures, the implicit-reward figures are 0: the policy is the reference. */
export interface DpoResult extends TrainedStage {
  scores: ReplyScores;
}

/**
 * Direct preference optimisation of the chat model of `from` against itself frozen as the
 * reference (or SimPO, reference-free): summed completion log-probs with dropout off, the loss,
 * implicit-reward accuracy and margins on held-out pairs, and task accuracy and format compliance
 * on held-out questions (greedy), before training, at intervals and at the end.
 */
export async function dpo(o: DpoOptions): Promise<DpoResult> {
  const t = openTuning<DpoState>('dpo', o, {
    defaults: ({ dpo: recipe }) => ({
      ...stageDefaults(recipe),
      loss: 'sigmoid',
      beta: recipe.beta,
      labelSmoothing: 0,
      rpoAlpha: recipe.rpoAlpha,
      questions: null,
    }),
    flags: FLAGS,
  });
  const { device, ckpt, settings, log, recipes } = t;
  const source = t.sources.from;
  const recipe = recipes.dpo;
  const { model: policy, chat } = readChatModel(ckpt ?? source.ckpt, device);
  const reference =
    settings.loss === 'simpo' ? undefined : readChatModel(source.ckpt, device).model;
  for (const p of reference?.parameters() ?? []) p.requiresGrad = false;
  // Dropout off in both, as the log-ratios assume (TRL disables dropout): ln 2 at the start.
  policy.eval();
  reference?.eval();
  const window = policy.config.maxSeqLen;

  const text = sourceText(source.ckpt);
  const data = tuningExamples(
    t,
    { train: DATA_FILES.pairsTrain, heldout: DATA_FILES.pairsHeldout },
    () => preferenceData(settings.seed, text, { train: recipe.train, heldout: recipe.heldout }),
    parsePreferenceExample,
  );
  const train = data.train.map((p) => encodePair(chat, p));
  const heldout = data.heldout.map((p) => encodePair(chat, p));
  const long = longPairs([...train, ...heldout], window);
  if (long > 0)
    log(`${long} pairs are longer than the model's window of ${window} tokens: their ends are cut`);
  // The held-out questions `sft` measured (the same seed generates the same held-out split).
  const questions = settings.questions
    ? readJsonl(settings.questions, parseChatExample, '--questions')
    : instructionData(settings.seed, text, { train: 0, heldout: recipes.sft.heldout }).heldout;

  const training = await startTraining(
    t,
    policy.parameters(),
    recipe.warmupSteps,
    () =>
      `${settings.loss === 'sigmoid' ? 'DPO' : settings.loss} from ${o.from} (step ${source.ref.step}), β ${settings.beta}: ${train.length} pairs, ${heldout.length} held out, ${questions.length} held-out questions; ${settings.steps} steps of ${settings.batchSize} pairs; device ${device.info.adapter}`,
  );

  const lossOptions = {
    lossType: settings.loss,
    beta: settings.beta,
    ...(settings.labelSmoothing > 0 && { labelSmoothing: settings.labelSmoothing }),
    rpoAlpha: settings.rpoAlpha,
  };
  let scores: ReplyScores | undefined;
  const evaluate = async (): Promise<Evaluation> => {
    const sums = { loss: 0, accuracy: 0, margin: 0 };
    for (let i = 0; i < heldout.length; i += settings.batchSize) {
      const part = heldout.slice(i, i + settings.batchSize);
      const r = await dpoEval(policy, reference, pairBatch(part, window), lossOptions);
      for (const k of ['loss', 'accuracy', 'margin'] as const) sums[k] += r[k] * part.length;
    }
    scores = await scoreReplies(policy, chat, questions, { maxNewTokens: recipes.replyTokens });
    return {
      loss: sums.loss / heldout.length,
      accuracy: sums.accuracy / heldout.length,
      margin: sums.margin / heldout.length,
      taskAccuracy: scores.accuracy,
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

  const trained = await trainStage(t, training, {
    files: data.pending,
    evalEvery: recipe.evalEvery,
    data: (step) => pairBatch(stepExamples(t, train, step), window),
    step: async (batch) => {
      const r = await dpoStep(policy, reference, training.optimizer, batch, lossOptions);
      return {
        loss: r.loss,
        tokens: batch.rows * batch.length,
        metrics: {
          accuracy: r.accuracy,
          margin: r.margin,
          chosenReward: r.chosenReward,
          rejectedReward: r.rejectedReward,
        },
      };
    },
    evaluate,
    before: (e) =>
      `held-out loss ${e.loss.toFixed(4)}, task accuracy ${e.taskAccuracy}, format ${e.format}`,
    save,
  });
  scores ??= await scoreReplies(policy, chat, questions, { maxNewTokens: recipes.replyTokens });
  const result: DpoResult = { ...trained, scores };
  writeDpoReport(o, result, {
    recipe: source.recipe,
    policy,
    schedule: training.schedule,
    metrics: training.metrics,
    settings,
  });
  policy.dispose();
  reference?.dispose();
  return result;
}

function writeDpoReport(
  o: DpoOptions,
  r: DpoResult,
  meta: {
    recipe: string;
    policy: DecoderLM;
    schedule: Schedule;
    metrics: Record<string, number>[];
    settings: DpoSettings;
  },
): void {
  writeStageReport(o.out, {
    loop: r.loop,
    metrics: meta.metrics,
    title: `reference-llm dpo (${meta.settings.loss}, β ${meta.settings.beta}): ${meta.recipe}`,
    facts: [
      ['from (and reference)', o.from],
      ['parameters', String(meta.policy.numParameters())],
      ...runFacts(r, { throughput: 'tokens/s (padded rows)' }),
      ['held-out implicit-reward accuracy', change(r, 'accuracy')],
      ['held-out loss', change(r, 'loss', decimals(4))],
      ['held-out margin', change(r, 'margin', decimals(3))],
      ['task accuracy (SFT model → DPO model)', change(r, 'taskAccuracy')],
      ['format compliance (SFT model → DPO model)', change(r, 'format')],
      accuracyByTask(r.scores.byTask),
    ],
    summary: {
      ...runSummary('dpo', meta.recipe, r, meta.settings),
      ...repliesSummary(r, r.scores),
    },
    history: r.history,
    schedule: meta.schedule,
    panels: [
      trainAndHeldoutPanel('loss', 'loss', meta.metrics, r.history),
      trainAndHeldoutPanel('implicit-reward accuracy', 'accuracy', meta.metrics, r.history),
      {
        title: 'implicit rewards (train)',
        curves: [
          { name: 'chosen', points: perStep(meta.metrics, 'chosenReward'), perStep: true },
          { name: 'rejected', points: perStep(meta.metrics, 'rejectedReward'), perStep: true },
          { name: 'margin', points: perStep(meta.metrics, 'margin'), perStep: true },
        ],
      },
      questionsPanel('held-out questions', r.history, 'taskAccuracy'),
    ],
  });
}
