import type { Schedule } from '@tessera/optim';
import { packSequences, padSequences, sftStep, type TokenizedExample } from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import type { DecoderLM } from '@tessera/transformer';
import { decoderConfig } from '../hf-config.js';
import { readModel, readTokenizer } from '../load.js';
import type { Evaluation } from '../loop.js';
import { FILES } from '../run-folder.js';
import { huggingFaceFiles } from '../save-checkpoint.js';
import { arithmeticData } from './arithmetic.js';
import { addChatTokens, ChatFormat, resizeVocabulary } from './chat-format.js';
import { DATA_FILES } from './data-files.js';
import { instructionData } from './datasets.js';
import { rowLength, sourceText } from './examples.js';
import { heldoutLoss } from './heldout-loss.js';
import { type ChatExample, parseChatExample } from './jsonl.js';
import {
  adapterFiles,
  addLora,
  LORA_TARGETS,
  loadAdapter,
  loraLayers,
  mergedWeights,
} from './lora.js';
import { type ReplyScores, scoreReplies } from './replies.js';
import {
  accuracyByTask,
  change,
  decimals,
  openTuning,
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

export interface SftOptions extends TuningOptions {
  /** The run folder of the model to tune (pretrained, or tuned before). */
  from: string;
  /** Instruction examples, JSONL `{"messages": [...]}`; default generated from the seed. */
  data?: string;
  /** Held-out examples in the same format; default generated. */
  heldout?: string;
  steps?: number;
  batchSize?: number;
  lr?: number;
  /** LoRA rank; 0 (default) fine-tunes every weight. */
  loraRank?: number;
  /** LoRA scale numerator; default 2·rank. */
  loraAlpha?: number;
  loraDropout?: number;
  /** Layers LoRA adapts; default every projection. */
  loraTargets?: string[];
  /** Learn every token (prompts too), not only the assistant's replies. */
  allTokens?: boolean;
  /**
   * Worked multi-step arithmetic problems (the `grpo` stage's kind) added to the generated
   * training data, none of them a held-out problem of `grpo` with the same seed; default 0.
   */
  arithmetic?: number;
  /**
   * Pack each step's examples into rows of the model's window (`packSequences`: positions
   * restart and attention stays inside each example), instead of one padded example per row.
   */
  pack?: boolean;
}

/** The settings an SFT run is started with (`tessera.json` field `settings`). */
interface SftSettings extends StageSettings {
  loraRank: number;
  loraAlpha: number;
  loraDropout: number;
  loraTargets: string[];
  allTokens: boolean;
  pack: boolean;
  arithmetic: number;
}

const FLAGS: Record<keyof SftSettings, string> = {
  ...STAGE_FLAGS,
  loraRank: '--lora-rank',
  loraAlpha: '--lora-alpha',
  loraDropout: '--lora-dropout',
  loraTargets: '--lora-targets',
  allTokens: '--all-tokens',
  pack: '--pack',
  arithmetic: '--arithmetic',
};

/** `tessera.json` of an SFT checkpoint. */
export interface SftState extends StageState {
  stage: 'sft';
  settings: SftSettings;
}

export interface SftResult extends TrainedStage {
  /** The last evaluation's replies, per task. */
  scores: ReplyScores;
}

/**
 * Supervised fine-tuning: the model of `from` learns to answer in ChatML. The chat tokens are
 * added to its vocabulary (the new embedding rows at the mean), every weight trains or only LoRA
 * adapters (and the embedding), on the assistant's tokens only (or every token), one example per
 * row padded to the batch's longest, or with `pack` several examples per row of the model's
 * window (document-masked attention, positions restarting per example). Held-out loss, task accuracy and format compliance are measured before training, at
 * intervals and at the end. Checkpoints hold the merged weights, and with LoRA the adapter in
 * PEFT's layout; `resume` continues one after checking it.
 */
export async function sft(o: SftOptions): Promise<SftResult> {
  const t = openTuning<SftState>('sft', o, {
    defaults: (recipes, ckpt) => {
      const rank = o.loraRank ?? ckpt?.state.settings.loraRank ?? 0;
      return {
        ...stageDefaults(recipes.sft),
        lr: rank > 0 ? recipes.sft.loraLr : recipes.sft.lr,
        loraRank: 0,
        loraAlpha: 2 * rank,
        loraDropout: 0,
        loraTargets: [...LORA_TARGETS],
        allTokens: false,
        pack: false,
        arithmetic: 0,
      };
    },
    flags: FLAGS,
  });
  const { device, ckpt, settings, log, recipes: recipe } = t;
  if (settings.data !== null && settings.arithmetic > 0)
    throw new Error(
      `--arithmetic ${settings.arithmetic} adds to the generated examples, but --data ${settings.data} replaces them; put the problems in the file instead`,
    );
  const source = t.sources.from;
  const lora =
    settings.loraRank > 0
      ? {
          rank: settings.loraRank,
          alpha: settings.loraAlpha,
          dropout: settings.loraDropout,
          targets: settings.loraTargets,
        }
      : undefined;

  // The model: the source's with the chat tokens; LoRA on top; a resumed run's weights.
  let model: DecoderLM;
  let tokenizer = addChatTokens(readTokenizer(source.ckpt, source.ckpt.state.model.vocabSize));
  if (ckpt && !lora) {
    model = readModel(ckpt, device);
    tokenizer = readTokenizer(ckpt, model.vocabSize);
  } else {
    model = readModel(source.ckpt, device);
    if (model.vocabSize !== tokenizer.vocabSize)
      model = resizeVocabulary(model, tokenizer.vocabSize);
    if (lora) addLora(model, lora, settings.seed);
    if (ckpt)
      loadAdapter(
        model,
        new Uint8Array(ckpt.read('adapter_model.safetensors')),
        `${ckpt.folder}/adapter_model.safetensors`,
      );
  }
  const chat = new ChatFormat(tokenizer);
  const window = model.config.maxSeqLen;

  const data = tuningExamples(
    t,
    { train: DATA_FILES.sftTrain, heldout: DATA_FILES.sftHeldout },
    () => {
      const tasks = instructionData(settings.seed, sourceText(source.ckpt), {
        train: recipe.sft.train,
        heldout: recipe.sft.heldout,
      });
      const worked = arithmeticData(settings.seed, {
        heldout: recipe.grpo.heldout,
        train: settings.arithmetic,
      }).train;
      return { train: [...tasks.train, ...worked], heldout: tasks.heldout };
    },
    parseChatExample,
  );
  const encode = (examples: ChatExample[]) =>
    examples.map((e) => chat.encodeConversation(e.messages));
  const train = encode(data.train);
  const heldout = encode(data.heldout);
  const long = [...train, ...heldout].filter((e) => e.ids.length > window).length;
  if (long > 0)
    log(
      `${long} examples are longer than the model's window of ${window} tokens: their ends are cut`,
    );
  const batchOf = (examples: (TokenizedExample & { ids: number[] })[]) =>
    padSequences(examples, {
      length: rowLength(
        examples.map((e) => e.ids.length),
        window,
      ),
      completionOnly: !settings.allTokens,
    });
  // Training rows: packed into the window (several examples a row), or padded one per row.
  const trainBatchOf = (examples: (TokenizedExample & { ids: number[] })[]) =>
    settings.pack
      ? packSequences(examples, { length: window, completionOnly: !settings.allTokens })
      : batchOf(examples);

  const training = await startTraining(
    t,
    model.parameters().filter((p) => p.requiresGrad),
    recipe.sft.warmupSteps,
    () =>
      `sft from ${o.from} (step ${source.ref.step}): ${model.numParameters({ trainableOnly: true })} of ${model.numParameters()} parameters train${lora ? ` (LoRA rank ${lora.rank} on ${loraLayers(model).length} layers, and the embedding)` : ''}; ${train.length} examples, ${heldout.length} held out; ${settings.steps} steps of ${settings.batchSize}; device ${device.info.adapter}`,
  );

  let scores: ReplyScores | undefined;
  const evaluate = async (): Promise<Evaluation> => {
    model.eval();
    const loss = await heldoutLoss(
      model,
      chat,
      data.heldout,
      settings.batchSize,
      !settings.allTokens,
    );
    scores = await scoreReplies(model, chat, data.heldout, { maxNewTokens: recipe.replyTokens });
    model.train();
    return { loss, accuracy: scores.accuracy, format: scores.format };
  };
  const save = async (step: number) => {
    let weights: Uint8Array;
    if (lora) {
      const merged = T.tidy(() => mergedWeights(model));
      weights = await T.saveSafetensors(merged);
      for (const [name] of loraLayers(model)) merged[`${name}.weight`]!.dispose();
    } else weights = await model.save();
    await saveTuning(t, training, step, {
      weights: { [FILES.model]: weights },
      files: {
        ...huggingFaceFiles(tokenizer, decoderConfig(model, { eos: chat.endId })),
        ...(lora && (await adapterFiles(model, lora, source.ckpt.folder))),
      },
      model: model.config,
      dataFiles: data.files,
    });
  };

  model.train();
  const trained = await trainStage(t, training, {
    files: data.pending,
    evalEvery: recipe.sft.evalEvery,
    data: (step) => trainBatchOf(stepExamples(t, train, step)),
    step: async (batch) => {
      const r = await sftStep(model, training.optimizer, batch);
      return { loss: r.loss, tokens: batch.rows * batch.length };
    },
    evaluate,
    before: (e) => `held-out loss ${e.loss.toFixed(3)}, accuracy ${e.accuracy}, format ${e.format}`,
    save,
  });
  scores ??= await scoreReplies(model.eval(), chat, data.heldout, {
    maxNewTokens: recipe.replyTokens,
  });
  const result: SftResult = { ...trained, scores };
  writeSftReport(o, result, {
    recipe: source.recipe,
    model,
    schedule: training.schedule,
    lora: !!lora,
    pack: settings.pack,
    metrics: training.metrics,
  });
  model.dispose();
  return result;
}

function writeSftReport(
  o: SftOptions,
  r: SftResult,
  meta: {
    recipe: string;
    model: DecoderLM;
    schedule: Schedule;
    lora: boolean;
    pack: boolean;
    metrics: Record<string, number>[];
  },
): void {
  writeStageReport(o.out, {
    loop: r.loop,
    metrics: meta.metrics,
    title: `reference-llm sft: ${meta.recipe}${meta.lora ? ' (LoRA)' : ''}`,
    facts: [
      ['from', o.from],
      [
        'trainable parameters',
        `${meta.model.numParameters({ trainableOnly: true })} of ${meta.model.numParameters()}`,
      ],
      ...runFacts(r, { throughput: `tokens/s (${meta.pack ? 'packed' : 'padded'} rows)` }),
      ['held-out loss', `${change(r, 'loss', decimals(3))} nats/token`],
      ['held-out task accuracy', change(r, 'accuracy')],
      ['held-out format compliance', change(r, 'format')],
      accuracyByTask(r.scores.byTask),
    ],
    summary: { ...runSummary('sft', meta.recipe, r), ...repliesSummary(r, r.scores) },
    history: r.history,
    schedule: meta.schedule,
    panels: [
      trainAndHeldoutPanel('loss (nats/token)', 'loss', meta.metrics, r.history),
      questionsPanel('held-out share', r.history),
    ],
  });
}
