import type { Schedule } from '@tessera/optim';
import {
  packSequences,
  padSequences,
  sftEvalLoss,
  sftStep,
  type TokenizedExample,
} from '@tessera/rlhf';
import * as T from '@tessera/tensor-webgpu';
import type { DecoderLM } from '@tessera/transformer';
import { llamaConfig } from '../hf-config.js';
import { readModel, readTokenizer } from '../load.js';
import type { Evaluation, History } from '../loop.js';
import { FILES } from '../run-folder.js';
import { huggingFaceFiles } from '../save-checkpoint.js';
import { arithmeticData } from './arithmetic.js';
import { addChatTokens, ChatFormat, resizeVocabulary } from './chat-format.js';
import { DATA_FILES } from './data-files.js';
import { instructionData } from './datasets.js';
import {
  batchIndices,
  checkDataFiles,
  type DataFile,
  rowLength,
  sourceText,
  stageExamples,
} from './examples.js';
import { type ChatExample, parseChatExample } from './jsonl.js';
import {
  adapterFiles,
  addLora,
  LORA_TARGETS,
  loadAdapter,
  loraLayers,
  mergedWeights,
} from './lora.js';
import { recipeFor, type TuningRecipe } from './recipes.js';
import { type ReplyScores, scoreReplies } from './replies.js';
import {
  atEvaluations,
  formatBytes,
  openSource,
  openStage,
  perStep,
  resolveSettings,
  restoreOptimizer,
  runStageLoop,
  type StageLoopResult,
  type StageRunOptions,
  type StageState,
  saveStage,
  stoppedNote,
  tuningOptimizer,
  writeStageReport,
} from './stage.js';

export interface SftOptions extends StageRunOptions {
  /** The run folder of the model to tune (pretrained, or tuned before). */
  from: string;
  /** The recipe; default the one of the preset the model was pretrained with. */
  recipe?: TuningRecipe;
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
interface SftSettings {
  steps: number;
  batchSize: number;
  lr: number;
  seed: number;
  data: string | null;
  heldout: string | null;
  loraRank: number;
  loraAlpha: number;
  loraDropout: number;
  loraTargets: string[];
  allTokens: boolean;
  pack: boolean;
  arithmetic: number;
}

const FLAGS: Record<keyof SftSettings, string> = {
  steps: '--steps',
  batchSize: '--batch-size',
  lr: '--lr',
  seed: '--seed',
  data: '--data',
  heldout: '--heldout',
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
  dataFiles: { train: DataFile; heldout: DataFile };
}

export interface SftResult {
  steps: number;
  totalSteps: number;
  history: History;
  /** Held-out figures before training (step 0) and at the end. */
  before: Evaluation;
  after: Evaluation;
  /** The last evaluation's replies, per task. */
  scores: ReplyScores;
  loop: StageLoopResult;
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
  const device = o.device ?? T.getDefaultDevice();
  const source = openSource('--from', o.from);
  const recipe = o.recipe ?? recipeFor(source.recipe);
  const ckpt = openStage<SftState>('sft', o, { from: source.ref });
  const given: Partial<SftSettings> = {
    steps: o.steps,
    batchSize: o.batchSize,
    lr: o.lr,
    seed: o.seed,
    data: o.data,
    heldout: o.heldout,
    loraRank: o.loraRank,
    loraAlpha: o.loraAlpha,
    loraDropout: o.loraDropout,
    loraTargets: o.loraTargets,
    allTokens: o.allTokens,
    pack: o.pack,
    arithmetic: o.arithmetic,
  };
  const rank = o.loraRank ?? ckpt?.state.settings.loraRank ?? 0;
  const settings = resolveSettings<SftSettings>(
    given,
    {
      steps: recipe.sft.steps,
      batchSize: recipe.sft.batchSize,
      lr: rank > 0 ? recipe.sft.loraLr : recipe.sft.lr,
      seed: 1,
      data: null,
      heldout: null,
      loraRank: 0,
      loraAlpha: 2 * rank,
      loraDropout: 0,
      loraTargets: [...LORA_TARGETS],
      allTokens: false,
      pack: false,
      arithmetic: 0,
    },
    FLAGS,
    ckpt && { settings: ckpt.state.settings, stateFile: ckpt.stateFile },
  );
  if (settings.data !== null && settings.arithmetic > 0)
    throw new Error(
      `--arithmetic ${settings.arithmetic} adds to the generated examples, but --data ${settings.data} replaces them; put the problems in the file instead`,
    );
  const log = (line: string) => (o.sink ?? process.stderr).write(`${line}\n`);
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

  const data = stageExamples<ChatExample>(
    o.out,
    { train: DATA_FILES.sftTrain, heldout: DATA_FILES.sftHeldout },
    { train: settings.data ?? undefined, heldout: settings.heldout ?? undefined },
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
  if (ckpt) checkDataFiles(data.files, ckpt.state.dataFiles, ckpt.stateFile);
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

  const total = settings.steps;
  const params = model.parameters().filter((p) => p.requiresGrad);
  const { optimizer, schedule } = tuningOptimizer(
    params,
    settings.lr,
    recipe.sft.warmupSteps,
    total,
  );
  const history: History = ckpt?.state.history ?? { trainLoss: [], val: [] };
  const metrics = ckpt?.state.metrics ?? [];
  const start = ckpt?.state.step ?? 0;
  if (ckpt) {
    await restoreOptimizer(optimizer, ckpt, device);
    log(`resumed ${o.out} at step ${start}/${total}`);
  } else {
    const trainable = model.numParameters({ trainableOnly: true });
    log(
      `sft from ${o.from} (step ${source.ref.step}): ${trainable} of ${model.numParameters()} parameters train${lora ? ` (LoRA rank ${lora.rank} on ${loraLayers(model).length} layers, and the embedding)` : ''}; ${train.length} examples, ${heldout.length} held out; ${total} steps of ${settings.batchSize}; device ${device.info.adapter}`,
    );
  }

  let scores: ReplyScores | undefined;
  const evaluate = async (): Promise<Evaluation> => {
    model.eval();
    let nats = 0;
    let tokens = 0;
    for (let i = 0; i < heldout.length; i += settings.batchSize) {
      const r = await sftEvalLoss(model, batchOf(heldout.slice(i, i + settings.batchSize)));
      nats += r.loss * r.tokens;
      tokens += r.tokens;
    }
    scores = await scoreReplies(model, chat, data.heldout, { maxNewTokens: recipe.replyTokens });
    model.train();
    return { loss: nats / Math.max(tokens, 1), accuracy: scores.accuracy, format: scores.format };
  };
  if (!ckpt) {
    const before = await evaluate();
    history.val.push({ step: 0, ...before });
    log(
      `before training: held-out loss ${before.loss.toFixed(3)}, accuracy ${before.accuracy}, format ${before.format}`,
    );
  }

  const save = async (step: number) => {
    let weights: Uint8Array;
    if (lora) {
      const merged = T.tidy(() => mergedWeights(model));
      weights = await T.saveSafetensors(merged);
      for (const [name] of loraLayers(model)) merged[`${name}.weight`]!.dispose();
    } else weights = await model.save();
    await saveStage(
      o.out,
      'sft',
      { [FILES.model]: weights },
      {
        ...huggingFaceFiles(tokenizer, llamaConfig(model.config, { eos: chat.endId })),
        ...(lora && (await adapterFiles(model, lora, source.ckpt.folder))),
      },
      optimizer,
      {
        stage: 'sft',
        step,
        totalSteps: total,
        recipe: source.recipe,
        model: model.config,
        settings,
        sources: { from: source.ref },
        seed: settings.seed,
        history,
        metrics,
        dataFiles: data.files,
      } as Omit<SftState, 'format' | 'version' | 'files' | 'optimizer'>,
    );
  };

  model.train();
  const loop = await runStageLoop({
    resumed: ckpt,
    stage: 'sft',
    run: o,
    seed: settings.seed,
    files: data.pending,
    device,
    start,
    total,
    history,
    metrics,
    evalEvery: recipe.sft.evalEvery,
    data: (step) =>
      trainBatchOf(
        batchIndices(train.length, settings.batchSize, step, settings.seed).map((i) => train[i]!),
      ),
    step: async (batch) => {
      const r = await sftStep(model, optimizer, batch);
      return { loss: r.loss, tokens: batch.rows * batch.length };
    },
    evaluate,
    save,
  });
  const before = history.val[0]!;
  const after = history.val.at(-1)!;
  scores ??= await scoreReplies(model.eval(), chat, data.heldout, {
    maxNewTokens: recipe.replyTokens,
  });
  const result: SftResult = {
    steps: loop.steps,
    totalSteps: total,
    history,
    before,
    after,
    scores,
    loop,
  };
  writeSftReport(o, result, {
    recipe: source.recipe,
    model,
    schedule: schedule,
    lora: !!lora,
    pack: settings.pack,
    metrics,
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
  const pct = (x: number | undefined) => `${(100 * (x ?? 0)).toFixed(1)}%`;
  const tasks = Object.entries(r.scores.byTask)
    .map(([task, s]) => `${task} ${pct(s.accuracy)}`)
    .join(', ');
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
      ['steps', `${r.steps}${stoppedNote(r.loop, r.totalSteps)}`],
      [
        'throughput',
        `${Math.round(r.loop.tokensPerSecond)} tokens/s (${meta.pack ? 'packed' : 'padded'} rows)`,
      ],
      ['peak device memory', formatBytes(r.loop.peakBytes)],
      ['held-out loss', `${r.before.loss.toFixed(3)} → ${r.after.loss.toFixed(3)} nats/token`],
      ['held-out task accuracy', `${pct(r.before.accuracy)} → ${pct(r.after.accuracy)}`],
      ['held-out format compliance', `${pct(r.before.format)} → ${pct(r.after.format)}`],
      ['accuracy by task', tasks],
    ],
    summary: {
      stage: 'sft',
      recipe: meta.recipe,
      steps: r.steps,
      totalSteps: r.totalSteps,
      stopReason: r.loop.stopReason ?? null,
      tokensPerSecond: Math.round(r.loop.tokensPerSecond),
      peakBytes: r.loop.peakBytes,
      before: r.before,
      after: r.after,
      byTask: r.scores.byTask,
      samples: r.scores.answers.slice(0, 10),
    },
    history: r.history,
    schedule: meta.schedule,
    panels: [
      {
        title: 'loss (nats/token)',
        curves: [
          { name: 'train', points: perStep(meta.metrics, 'loss'), perStep: true },
          { name: 'held-out', points: atEvaluations(r.history, 'loss') },
        ],
      },
      {
        title: 'held-out share',
        curves: [
          { name: 'task accuracy', points: atEvaluations(r.history, 'accuracy') },
          { name: 'format compliance', points: atEvaluations(r.history, 'format') },
        ],
      },
    ],
  });
}
