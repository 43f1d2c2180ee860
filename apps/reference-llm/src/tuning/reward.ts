import type { Schedule } from '@tessera/optim';
import { rewardEval, rewardStep, sequenceScores } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import type { Evaluation } from '../loop.js';
import { FILES } from '../run-folder.js';
import { huggingFaceFiles } from '../save-checkpoint.js';
import { readChatModel } from './chat-model.js';
import { DATA_FILES } from './data-files.js';
import { preferenceData } from './datasets.js';
import { sourceText } from './examples.js';
import { parsePreferenceExample } from './jsonl.js';
import { encodePair, longPairs, pairBatch } from './pairs.js';
import { RewardModel, readRewardModel, rewardModelConfig } from './reward-model.js';
import {
  accuracyByTask,
  change,
  decimals,
  openTuning,
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

export interface RewardOptions extends TuningOptions {
  /** The run folder of the chat model whose trunk the reward model starts from (`sft`). */
  from: string;
  /** Preference pairs, JSONL `{"prompt", "chosen", "rejected"}`; default generated. */
  data?: string;
  heldout?: string;
  steps?: number;
  batchSize?: number;
  lr?: number;
  /** Required reward gap of each pair (Llama 2's margin loss). Default 0. */
  margin?: number;
}

interface RewardSettings extends StageSettings {
  margin: number;
}

const FLAGS: Record<keyof RewardSettings, string> = {
  ...STAGE_FLAGS,
  margin: '--margin',
};

/** `tessera.json` of a reward-model checkpoint. */
export interface RewardState extends StageState {
  stage: 'reward';
  settings: RewardSettings;
}

export interface RewardResult extends TrainedStage {
  /** Held-out pair accuracy per task at the end. */
  byTask: Record<string, number>;
}

/**
 * Trains a Bradley–Terry reward model: the trunk of the chat model of `from` with a scalar head
 * (Hugging Face `LlamaForSequenceClassification` names), scored at each conversation's last
 * token, on preference pairs (generated: the correct, well-formatted reply over a wrong or badly
 * formatted one). Held-out pair accuracy, loss and margin are measured before training, at
 * intervals and at the end.
 *
 * @throws Error - `from` holds a mixture of experts (the head needs a Llama-shaped trunk)
 */
export async function trainRewardModel(o: RewardOptions): Promise<RewardResult> {
  const t = openTuning<RewardState>('reward', o, {
    defaults: ({ reward: recipe }) => ({ ...stageDefaults(recipe), margin: 0 }),
    flags: FLAGS,
  });
  const { device, ckpt, settings, log } = t;
  const source = t.sources.from;
  const recipe = t.recipes.reward;
  const { model: lm, chat } = readChatModel(source.ckpt, device);
  if (lm.config.ffn === 'moe') {
    lm.dispose();
    throw new Error(
      `--from ${source.ref.path}: a mixture of experts (ffn moe); the reward model is a Llama trunk with a scalar head (Hugging Face LlamaForSequenceClassification), so it starts from a dense SFT model`,
    );
  }
  const rm = ckpt
    ? readRewardModel(ckpt, device)
    : RewardModel.fromLanguageModel(lm, settings.seed);
  lm.dispose();
  const window = rm.config.maxSeqLen;

  const data = tuningExamples(
    t,
    { train: DATA_FILES.pairsTrain, heldout: DATA_FILES.pairsHeldout },
    () =>
      preferenceData(settings.seed, sourceText(source.ckpt), {
        train: recipe.train,
        heldout: recipe.heldout,
      }),
    parsePreferenceExample,
  );
  const train = data.train.map((p) => encodePair(chat, p));
  const heldout = data.heldout.map((p) => encodePair(chat, p));
  const long = longPairs([...train, ...heldout], window);
  if (long > 0)
    log(`${long} pairs are longer than the model's window of ${window} tokens: their ends are cut`);

  const training = await startTraining(
    t,
    rm.parameters(),
    recipe.warmupSteps,
    () =>
      `reward model from ${o.from} (step ${source.ref.step}): ${rm.numParameters()} parameters; ${train.length} pairs, ${heldout.length} held out; ${settings.steps} steps of ${settings.batchSize} pairs; device ${device.info.adapter}`,
  );

  const lossOptions = { margin: settings.margin };
  const evaluate = async (): Promise<Evaluation> => {
    rm.eval();
    const sums = { loss: 0, accuracy: 0, margin: 0 };
    for (let i = 0; i < heldout.length; i += settings.batchSize) {
      const part = heldout.slice(i, i + settings.batchSize);
      const r = await rewardEval(rm, pairBatch(part, window), lossOptions);
      for (const k of ['loss', 'accuracy', 'margin'] as const) sums[k] += r[k] * part.length;
    }
    rm.train();
    return {
      loss: sums.loss / heldout.length,
      accuracy: sums.accuracy / heldout.length,
      margin: sums.margin / heldout.length,
    };
  };
  const save = async (step: number) =>
    saveTuning(t, training, step, {
      weights: { [FILES.model]: await rm.save() },
      files: huggingFaceFiles(chat.tokenizer, rewardModelConfig(rm.config, chat.endId)),
      model: rm.config,
      dataFiles: data.files,
    });

  rm.train();
  const trained = await trainStage(t, training, {
    files: data.pending,
    evalEvery: recipe.evalEvery,
    data: (step) => pairBatch(stepExamples(t, train, step), window),
    step: async (batch) => {
      const r = await rewardStep(rm, training.optimizer, batch, lossOptions);
      return {
        loss: r.loss,
        tokens: batch.rows * batch.length,
        metrics: { accuracy: r.accuracy, margin: r.margin },
      };
    },
    evaluate,
    before: (e) => `held-out pair accuracy ${e.accuracy?.toFixed(3)}`,
    save,
  });

  // Held-out accuracy per task, from each pair's two scores.
  rm.eval();
  const byTask: Record<string, [number, number]> = {};
  for (let i = 0; i < heldout.length; i += settings.batchSize) {
    const part = heldout.slice(i, i + settings.batchSize);
    const scores = T.noGrad(() => T.tidy(() => sequenceScores(rm, pairBatch(part, window))));
    const s = await scores.data();
    scores.dispose();
    part.forEach((_, k) => {
      const task = data.heldout[i + k]!.task ?? 'all';
      const [right, n] = byTask[task] ?? [0, 0];
      byTask[task] = [right + (s[k]! > s[part.length + k]! ? 1 : 0), n + 1];
    });
  }
  const result: RewardResult = {
    ...trained,
    byTask: Object.fromEntries(Object.entries(byTask).map(([task, [r, n]]) => [task, r / n])),
  };
  writeRewardReport(o, result, {
    recipe: source.recipe,
    parameters: rm.numParameters(),
    schedule: training.schedule,
    metrics: training.metrics,
  });
  rm.dispose();
  return result;
}

function writeRewardReport(
  o: RewardOptions,
  r: RewardResult,
  meta: {
    recipe: string;
    parameters: number;
    schedule: Schedule;
    metrics: Record<string, number>[];
  },
): void {
  writeStageReport(o.out, {
    loop: r.loop,
    metrics: meta.metrics,
    title: `reference-llm reward: ${meta.recipe}`,
    facts: [
      ['from', o.from],
      ['parameters', String(meta.parameters)],
      ...runFacts(r, { throughput: 'tokens/s (padded rows)' }),
      ['held-out pair accuracy', change(r, 'accuracy')],
      ['held-out loss', change(r, 'loss', decimals(3))],
      ['held-out mean margin', change(r, 'margin', decimals(3))],
      accuracyByTask(r.byTask),
    ],
    summary: {
      ...runSummary('reward', meta.recipe, r),
      before: r.before,
      after: r.after,
      byTask: r.byTask,
    },
    history: r.history,
    schedule: meta.schedule,
    panels: [
      trainAndHeldoutPanel('Bradley–Terry loss', 'loss', meta.metrics, r.history),
      trainAndHeldoutPanel('pair accuracy', 'accuracy', meta.metrics, r.history),
      trainAndHeldoutPanel('reward margin', 'margin', meta.metrics, r.history),
    ],
  });
}
