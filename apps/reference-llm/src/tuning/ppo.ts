import type { Schedule } from '@tessera/optim';
import {
  AdaptiveKLController,
  FixedKLController,
  type KLController,
  padSequences,
  ppoRollout,
  ppoStep,
  sequenceScores,
} from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import type { DecoderLM } from '@tessera/transformer';
import { decoderConfig } from '../hf-config.js';
import type { Evaluation } from '../loop.js';
import { FILES } from '../run-folder.js';
import { huggingFaceFiles } from '../save-checkpoint.js';
import type { ChatFormat } from './chat-format.js';
import { readChatModel } from './chat-model.js';
import { DATA_FILES } from './data-files.js';
import { instructionData } from './datasets.js';
import { rowLength, sourceText } from './examples.js';
import { heldoutLoss } from './heldout-loss.js';
import { type ChatExample, parseChatExample } from './jsonl.js';
import { type ReplyScores, scoreReplies } from './replies.js';
import { type RewardModel, readRewardModel } from './reward-model.js';
import {
  accuracyByTask,
  atEvaluations,
  change,
  decimals,
  type OpenedSource,
  openSource,
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
  trainStage,
  tuningExamples,
  writeStageReport,
} from './stage.js';

/** The value model's weights in a PPO checkpoint (beside the policy's `model.safetensors`). */
export const VALUE_FILE = 'value.safetensors';

export interface PpoOptions extends TuningOptions {
  /** The run folder of the chat model to tune (`sft`); it is also the frozen reference. */
  from: string;
  /** The run folder of the reward model (`reward`); the value model starts from it. */
  reward: string;
  /** Prompts: instruction examples (JSONL `{"messages": [...]}`, the last reply dropped); default generated. */
  data?: string;
  /** Held-out questions with reference replies, same format; default generated (sft's). */
  heldout?: string;
  steps?: number;
  /** Prompts per rollout. */
  batchSize?: number;
  lr?: number;
  epochs?: number;
  minibatches?: number;
  klCoef?: number;
  /** Target KL of the adaptive controller; 0 keeps β fixed. */
  klTarget?: number;
  klEstimator?: 'k1' | 'k3';
  entropyCoef?: number;
  maxNewTokens?: number;
  temperature?: number;
}

interface PpoSettings extends StageSettings {
  epochs: number;
  minibatches: number;
  klCoef: number;
  klTarget: number;
  klEstimator: 'k1' | 'k3';
  entropyCoef: number;
  maxNewTokens: number;
  temperature: number;
  missingEosPenalty: number;
}

const FLAGS: Record<keyof PpoSettings, string> = {
  ...STAGE_FLAGS,
  epochs: '--epochs',
  minibatches: '--minibatches',
  klCoef: '--kl-coef',
  klTarget: '--kl-target',
  klEstimator: '--kl-estimator',
  entropyCoef: '--entropy-coef',
  maxNewTokens: '--max-new-tokens',
  temperature: '--temperature',
  missingEosPenalty: '--missing-eos-penalty',
};

/** `tessera.json` of a PPO checkpoint. */
export interface PpoState extends StageState {
  stage: 'ppo';
  settings: PpoSettings;
  /** The KL controller's coefficient β after the last step. */
  klCoef: number;
}

export interface PpoResult extends TrainedStage {
  scores: ReplyScores;
  /** Every step's rollout and update figures (score, kl, entropy, clipFraction, valueLoss, approxKl, …). */
  metrics: Record<string, number>[];
}

/**
 * RLHF with PPO, as InstructGPT and TRL `PPOTrainer`: each step samples completions of a batch of
 * prompts from the policy, scores them with the frozen reward model (minus a penalty when a
 * reply does not end), shapes the reward with a per-token KL penalty to the frozen SFT model
 * (fixed or adaptive β), estimates advantages by GAE with the value model (initialised from the
 * reward model), and runs PPO epochs over minibatches. Mean reward, KL, entropy, clip fraction,
 * value loss and approximate KL are recorded every step; held-out task accuracy, format, the
 * reward of greedy replies and the NLL of the reference replies at intervals.
 */
export async function ppo(o: PpoOptions): Promise<PpoResult> {
  const t = openTuning<PpoState, 'reward'>(
    'ppo',
    o,
    {
      defaults: ({ ppo: recipe }) => ({
        ...stageDefaults(recipe),
        epochs: recipe.epochs,
        minibatches: recipe.minibatches,
        klCoef: recipe.klCoef,
        klTarget: recipe.klTarget,
        klEstimator: 'k1',
        entropyCoef: 0,
        maxNewTokens: recipe.maxNewTokens,
        temperature: 1,
        missingEosPenalty: recipe.missingEosPenalty,
      }),
      flags: FLAGS,
    },
    { reward: () => openRewardSource(o.reward) },
  );
  const { device, ckpt, settings, log, recipes } = t;
  const { from: source, reward: rewardSource } = t.sources;
  const recipe = recipes.ppo;

  const { model: policy, chat } = readChatModel(ckpt ?? source.ckpt, device);
  const { model: reference } = readChatModel(source.ckpt, device);
  const reward = readRewardModel(rewardSource.ckpt, device);
  const value = readRewardModel(ckpt ?? rewardSource.ckpt, device, ckpt ? VALUE_FILE : FILES.model);
  for (const p of [...reference.parameters(), ...reward.parameters()]) p.requiresGrad = false;
  for (const m of [policy, reference, reward, value]) m.eval(); // dropout off: ratio 1 at the first update
  if (reward.config.vocabSize !== policy.vocabSize)
    throw new Error(
      `--reward ${o.reward}: its vocabulary (${reward.config.vocabSize} tokens) is not the chat model's (${policy.vocabSize}); train it from the same sft run`,
    );
  const window = policy.config.maxSeqLen;

  const text = sourceText(source.ckpt);
  const data = tuningExamples(
    t,
    { train: DATA_FILES.sftTrain, heldout: DATA_FILES.sftHeldout },
    () =>
      instructionData(settings.seed, text, { train: recipe.train, heldout: recipes.sft.heldout }),
    parseChatExample,
  );
  const prompts = data.train
    .map((e) => chat.promptIds(e.messages.slice(0, -1)))
    .filter((p) => p.length + settings.maxNewTokens <= window);
  if (prompts.length < data.train.length)
    log(
      `${data.train.length - prompts.length} prompts leave fewer than ${settings.maxNewTokens} tokens of the ${window}-token window: left out`,
    );
  if (prompts.length === 0)
    throw new Error(
      `no prompt fits the model's window of ${window} tokens with --max-new-tokens ${settings.maxNewTokens}`,
    );

  // Each step makes epochs × minibatches updates; the schedule counts updates.
  const training = await startTraining(
    t,
    [...policy.parameters(), ...value.parameters()],
    recipe.warmupSteps,
    () =>
      `PPO from ${o.from} (step ${source.ref.step}) with the reward model of ${o.reward}: ${prompts.length} prompts, ${data.heldout.length} held-out questions; ${settings.steps} steps of ${settings.batchSize} rollouts × ${settings.epochs} epochs × ${settings.minibatches} minibatches; β ${settings.klCoef}${settings.klTarget > 0 ? ` (adaptive, target ${settings.klTarget})` : ''}; device ${device.info.adapter}`,
    settings.epochs * settings.minibatches,
  );
  const { optimizer } = training;
  const startCoef = ckpt?.state.klCoef ?? settings.klCoef;
  const kl: KLController =
    settings.klTarget > 0
      ? new AdaptiveKLController({
          initKlCoef: startCoef,
          target: settings.klTarget,
          horizon: 10_000,
        })
      : new FixedKLController(startCoef);

  let scores: ReplyScores | undefined;
  const evaluate = async (): Promise<Evaluation> => {
    const loss = await heldoutLoss(policy, chat, data.heldout, settings.batchSize);
    scores = await scoreReplies(policy, chat, data.heldout, { maxNewTokens: recipes.replyTokens });
    return {
      loss,
      accuracy: scores.accuracy,
      format: scores.format,
      reward: await meanReward(reward, chat, data.heldout, scores, window),
    };
  };
  const save = async (step: number) =>
    saveTuning(t, training, step, {
      weights: { [FILES.model]: await policy.save(), [VALUE_FILE]: await value.save() },
      files: huggingFaceFiles(chat.tokenizer, decoderConfig(policy, { eos: chat.endId })),
      model: policy.config,
      dataFiles: data.files,
      state: { klCoef: kl.value },
    });

  const trained = await trainStage(t, training, {
    files: data.pending,
    evalEvery: recipe.evalEvery,
    data: (step) => stepExamples(t, prompts, step),
    step: async (batch, step) => {
      const klCoef = kl.value;
      const rollout = await ppoRollout({ policy, reference, value, reward }, batch, {
        maxNewTokens: settings.maxNewTokens,
        stopTokenIds: [chat.endId],
        temperature: settings.temperature,
        seed: settings.seed * 1_000_003 + step * settings.batchSize,
        klCoef,
        klEstimator: settings.klEstimator,
        missingEosPenalty: settings.missingEosPenalty,
      });
      const tokens = rollout.ids.size;
      try {
        const r = await ppoStep(policy, value, optimizer, rollout, {
          epochs: settings.epochs,
          minibatches: settings.minibatches,
          temperature: settings.temperature,
          entropyCoef: settings.entropyCoef,
          seed: step,
        });
        kl.update(rollout.stats.kl, batch.length);
        return {
          loss: r.loss,
          tokens,
          metrics: {
            ...rollout.stats,
            klCoef,
            policyLoss: r.policyLoss,
            valueLoss: r.valueLoss,
            entropy: r.entropy,
            clipFraction: r.clipFraction,
            approxKl: r.approxKl,
          },
        };
      } finally {
        rollout.dispose();
      }
    },
    evaluate,
    before: (e) =>
      `held-out accuracy ${e.accuracy}, format ${e.format}, reward of greedy replies ${e.reward?.toFixed(3)}`,
    save,
  });
  scores ??= await scoreReplies(policy, chat, data.heldout, { maxNewTokens: recipes.replyTokens });
  const result: PpoResult = { ...trained, scores, metrics: training.metrics };
  writePpoReport(o, result, {
    recipe: source.recipe,
    policy,
    schedule: training.schedule,
    settings,
  });
  for (const m of [policy, reference, reward, value]) m.dispose();
  return result;
}

/** The checkpoint of `--reward`, which must hold a reward model. */
function openRewardSource(dir: string): OpenedSource {
  const source = openSource('--reward', dir);
  if (source.ref.stage !== 'reward')
    throw new Error(
      `--reward ${dir}: holds a ${source.ref.stage} checkpoint, not a reward model (run reward first)`,
    );
  return source;
}

/** The reward model's mean score of the greedy replies to held-out questions. */
async function meanReward(
  reward: RewardModel,
  chat: ChatFormat,
  questions: readonly ChatExample[],
  scores: ReplyScores,
  window: number,
): Promise<number> {
  const rows = questions.map((q, i) =>
    chat.encodeConversation([
      ...q.messages.slice(0, -1),
      { role: 'assistant', content: scores.answers[i]!.reply },
    ]),
  );
  let sum = 0;
  for (let i = 0; i < rows.length; i += 32) {
    const part = rows.slice(i, i + 32);
    const batch = padSequences(part, {
      length: rowLength(
        part.map((r) => r.ids.length),
        window,
      ),
    });
    const s = T.noGrad(() => T.tidy(() => T.sum(sequenceScores(reward, batch))));
    sum += await s.item();
    s.dispose();
  }
  return sum / rows.length;
}

function writePpoReport(
  o: PpoOptions,
  r: PpoResult,
  meta: { recipe: string; policy: DecoderLM; schedule: Schedule; settings: PpoSettings },
): void {
  const mean = (key: string, part: Record<string, number>[]) =>
    part.reduce((s, m) => s + (m[key] ?? 0), 0) / Math.max(part.length, 1);
  const tenth = Math.max(1, Math.floor(r.metrics.length / 10));
  const [first, last] = [r.metrics.slice(0, tenth), r.metrics.slice(-tenth)];
  writeStageReport(o.out, {
    loop: r.loop,
    metrics: r.metrics,
    title: `reference-llm ppo: ${meta.recipe}`,
    facts: [
      ['from (and reference)', o.from],
      ['reward model (and value model’s start)', o.reward],
      ...runFacts(r, {
        per: `${meta.settings.batchSize} rollouts`,
        throughput: `rollout tokens/s (sampling, scoring and ${meta.settings.epochs} PPO epochs)`,
      }),
      [
        'mean rollout reward (first → last tenth of the steps)',
        `${mean('score', first).toFixed(3)} → ${mean('score', last).toFixed(3)}`,
      ],
      [
        'KL to the reference (nats per reply, first → last tenth)',
        `${mean('kl', first).toFixed(3)} → ${mean('kl', last).toFixed(3)}`,
      ],
      ['held-out task accuracy (SFT model → PPO model)', change(r, 'accuracy')],
      ['held-out format compliance', change(r, 'format')],
      ['reward of greedy held-out replies', change(r, 'reward', decimals(3))],
      accuracyByTask(r.scores.byTask),
    ],
    summary: {
      ...runSummary('ppo', meta.recipe, r, meta.settings),
      ...repliesSummary(r, r.scores),
    },
    history: r.history,
    schedule: meta.schedule,
    panels: [
      {
        title: 'reward',
        curves: [
          { name: 'rollout score', points: perStep(r.metrics, 'score'), perStep: true },
          { name: 'score − β·KL', points: perStep(r.metrics, 'rlhfReward'), perStep: true },
          { name: 'greedy held-out replies', points: atEvaluations(r.history, 'reward') },
        ],
      },
      {
        title: 'KL to reference (nats)',
        curves: [{ name: 'per reply', points: perStep(r.metrics, 'kl'), perStep: true }],
      },
      {
        title: 'policy',
        curves: [
          { name: 'entropy', points: perStep(r.metrics, 'entropy'), perStep: true },
          { name: 'clip fraction', points: perStep(r.metrics, 'clipFraction'), perStep: true },
          {
            name: 'approx. KL ×100',
            points: perStep(r.metrics, 'approxKl').map(
              ([s, v]) => [s, 100 * v] as [number, number],
            ),
            perStep: true,
          },
        ],
      },
      {
        title: 'value loss',
        curves: [{ name: 'value loss', points: perStep(r.metrics, 'valueLoss'), perStep: true }],
      },
      questionsPanel('held-out questions', r.history),
    ],
  });
}
