import { createHash } from 'node:crypto';
import { bitsPerByteFromMeanNll } from '@tessera/eval';
import type { OptimizerState } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { type Tokenizer, trainBpe } from '@tessera/tokenizer';
import { DecoderLM, type TransformerConfig } from '@tessera/transformer';
import { batchAt } from './batch.js';
import {
  byteLength,
  checkSplitSize,
  DEFAULT_DATA,
  displayPath,
  readText,
  splitText,
} from './data.js';
import { type ExpertLoadHistory, ExpertLoadRecorder } from './expert-load.js';
import { decoderConfig } from './hf-config.js';
import { languageModelStep, validationLoss } from './lm-step.js';
import { type ModelState, readModel, readTokenizer } from './load.js';
import type { History, StopReason } from './loop.js';
import { type MoERun, moeReport } from './moe-report.js';
import { buildOptimizer, OPTIMIZERS, type OptimizerName } from './optimizer.js';
import { restoreOptimizer } from './optimizer-state.js';
import {
  basePresetName,
  type MoEChoice,
  moePreset,
  moePresetName,
  PRESETS,
  type Preset,
  presetBudget,
} from './presets.js';
import { stderrSink } from './progress.js';
import { routeSentence } from './routing-picture.js';
import { type Checkpoint, FILES, fileError } from './run-folder.js';
import { huggingFaceFiles, saveCheckpoint } from './save-checkpoint.js';
import {
  openRun,
  runStageLoop,
  type StageLoopResult,
  type StageRunOptions,
  writeRunReport,
} from './stage-runner.js';

/**
 * Options of `pretrain`; those of every training command (`out`, `resume`, `force`, `saveEvery`
 * (default the evaluation interval), `maxSeconds`, `stop`, `sink`, `device`, `seed`) come from
 * `StageRunOptions`.
 */
export interface PretrainOptions extends StageRunOptions {
  /** A preset or its name; default `tiny`, or the checkpoint's on `resume` (where another is an error). */
  preset?: Preset | string;
  /** Train the preset's mixture-of-experts variant of equal active size (`moePreset`). */
  moe?: MoEChoice;
  /** Default `adamw`, or the checkpoint's on `resume` (where another is an error). */
  optimizer?: OptimizerName;
  /** The text; default the bundled tinyshakespeare, or the checkpoint's file on `resume`. */
  data?: string | URL;
  /** The run's length; default the preset's Chinchilla budget, or the checkpoint's on `resume`. */
  steps?: number;
  /** Validation every N steps; default the preset's `evalInterval`. */
  evalEvery?: number;
  /** Batches averaged for each validation figure. Default 8. */
  evalBatches?: number;
}

export interface PretrainResult {
  steps: number;
  /** Steps the run has (the schedule's length); `steps` < `totalSteps` when stopped early. */
  totalSteps: number;
  trainLoss: number[];
  val: History['val'];
  unigramBpb: number;
  tokensPerSecond: number;
  /** Why training stopped before `totalSteps`: a signal or the time limit. */
  stopReason?: StopReason;
}

/** `tessera.json` of a pretraining checkpoint. */
export interface PretrainState extends ModelState {
  stage: 'pretrain';
  preset: Preset;
  model: TransformerConfig;
  optimizer: { name: OptimizerName } & Omit<OptimizerState, 'tensors'>;
  seed: number;
  /** The text: its path as given (`bundled` for the default), bytes and SHA-256. */
  data: { path: string; bytes: number; sha256: string };
  history: History;
  /** The expert load of an MoE model's layers over the run (the report's heat map). */
  expertLoad?: ExpertLoadHistory;
}

/** Bits per byte of a unigram model fitted on the training tokens, on the validation tokens. */
export function unigramBpb(
  train: Int32Array,
  val: Int32Array,
  vocab: number,
  valBytes: number,
): number {
  const counts = new Float64Array(vocab).fill(1); // add-one smoothing
  for (const id of train) counts[id]! += 1;
  const total = counts.reduce((a, b) => a + b, 0);
  let nats = 0;
  for (const id of val) nats -= Math.log(counts[id]! / total);
  return bitsPerByteFromMeanNll(nats / val.length, val.length, valBytes);
}

/** The tokenizer of a run: byte-level BPE of the preset's size trained on the training split. */
export function trainTokenizer(train: string, preset: Preset): Tokenizer {
  return trainBpe([train], { vocabSize: preset.vocabSize, specialTokens: ['<|endoftext|>'] });
}

/**
 * A preset, given or by name, or its mixture-of-experts variant with `moe` (`moePreset`); an
 * unknown name is an error listing the known ones.
 */
export function resolvePreset(preset: Preset | string, moe?: MoEChoice): Preset {
  const found = typeof preset === 'string' ? PRESETS[preset] : preset;
  if (!found)
    throw new Error(
      `pretrain: unknown preset ${JSON.stringify(preset)}; known: ${Object.keys(PRESETS).join(', ')}`,
    );
  return moe ? moePreset(found, moe) : found;
}

/**
 * Checks a pretraining checkpoint's settings (`openRun` checked its files, stage and history;
 * `restoreOptimizer` checks the optimizer's step) against the options of the command that resumes it: a flag
 * that differs from what the run was started with is an error naming the flag, both values and
 * the field. Returns the run's preset, optimizer, step count and data.
 */
function resumeSettings(ckpt: Checkpoint<PretrainState>, o: PretrainOptions) {
  const s = ckpt.state;
  const field = (name: string, message: string) =>
    fileError(ckpt.stateFile, `field "${name}" ${message}`);
  const conflict = (flag: string, given: unknown, saved: unknown, name: string) =>
    new Error(
      `--${flag} ${given} conflicts with the checkpoint, which was started with ${saved} (${ckpt.stateFile} field "${name}"); leave --${flag} out to resume, or pass --force to start over`,
    );
  if (s.preset === null || typeof s.preset !== 'object' || typeof s.preset.name !== 'string')
    throw field('preset', 'is missing: the recipe the run was started with');
  const base =
    o.preset === undefined ? basePresetName(s.preset.name) : resolvePreset(o.preset).name;
  const givenPreset =
    o.moe !== undefined ? moePresetName(base, o.moe) : o.preset === undefined ? undefined : base;
  if (givenPreset !== undefined && givenPreset !== s.preset.name)
    throw conflict('preset', givenPreset, s.preset.name, 'preset.name');
  const name = s.optimizer?.name;
  if (!OPTIMIZERS.includes(name))
    throw field(
      'optimizer.name',
      `is ${JSON.stringify(name)}; known optimizers: ${OPTIMIZERS.join(', ')}`,
    );
  if (o.optimizer !== undefined && o.optimizer !== name)
    throw conflict('optimizer', o.optimizer, name, 'optimizer.name');
  if (o.steps !== undefined && o.steps !== s.totalSteps)
    throw conflict('steps', o.steps, s.totalSteps, 'totalSteps');
  if (!Number.isInteger(s.seed))
    throw field('seed', `is ${JSON.stringify(s.seed)}, expected an integer`);
  const data = o.data ?? (s.data?.path === 'bundled' ? DEFAULT_DATA : s.data?.path);
  if (typeof data !== 'string' && !(data instanceof URL))
    throw field('data.path', 'is missing: the text the run was trained on');
  return { preset: s.preset, optimizer: name, totalSteps: s.totalSteps, data };
}

/**
 * Pretrains a DecoderLM on a text: trains a BPE tokenizer on the training split (90%), then the
 * model with AdamW or Muon (warmup + cosine decay per group, gradient clipping at 1), evaluating
 * validation loss and bits per byte at intervals, through the app's training loop. Checkpoints
 * are saved atomically into the run folder `out`; `resume` continues one on the same trajectory
 * after checking it; the report (`report.md`, `report.json`, `loss.svg`) is written at the end.
 * Throws when `out` holds a checkpoint and neither `resume` nor `force` is set, when the text is
 * too short for one batch, and on a resumed checkpoint that fails a check (naming file and field).
 */
export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const sink = o.sink ?? stderrSink;
  const log = (line: string) => sink.write(`${line}\n`);
  const device = o.device ?? T.getDefaultDevice();
  const ckpt = openRun<PretrainState>('pretrain', o);
  const saved = ckpt && resumeSettings(ckpt, o);
  const preset = saved?.preset ?? resolvePreset(o.preset ?? 'tiny', o.moe);
  const optimizerName = saved?.optimizer ?? o.optimizer ?? 'adamw';
  const seed = ckpt?.state.seed ?? o.seed ?? 1;
  const dataPath = saved?.data ?? o.data ?? DEFAULT_DATA;
  const source = `--data ${displayPath(dataPath)}`;
  const text = readText(dataPath);
  const data = {
    path: dataPath === DEFAULT_DATA ? 'bundled' : displayPath(dataPath),
    bytes: byteLength(text),
    sha256: createHash('sha256').update(text).digest('hex'),
  };
  if (ckpt && ckpt.state.data?.sha256 !== data.sha256)
    throw new Error(
      `${source} is not the text the checkpoint was trained on (${ckpt.stateFile} field "data": ${ckpt.state.data?.path}, ${ckpt.state.data?.bytes} bytes, SHA-256 ${ckpt.state.data?.sha256?.slice(0, 12)}…; this file has ${data.bytes} bytes, ${data.sha256.slice(0, 12)}…)`,
    );
  const { train, val } = splitText(text);
  const trainBytes = byteLength(train);
  const valBytes = byteLength(val);
  checkSplitSize(source, 'training', { bytes: trainBytes }, preset.seqLen);
  checkSplitSize(source, 'validation', { bytes: valBytes }, preset.seqLen);

  let model: DecoderLM;
  let tokenizer: Tokenizer;
  if (ckpt) {
    model = readModel(ckpt, device);
    tokenizer = readTokenizer(ckpt, model.vocabSize);
  } else {
    const t0 = performance.now();
    log(`training a ${preset.vocabSize}-token BPE tokenizer on ${trainBytes} bytes…`);
    tokenizer = trainTokenizer(train, preset);
    log(
      `tokenizer: ${tokenizer.vocabSize} tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    model = new DecoderLM({ ...preset.model, vocabSize: tokenizer.vocabSize }, device);
  }
  const encode = (s: string) => Int32Array.from(tokenizer.encode(s, { disallowedSpecial: [] }));
  const trainIds = encode(train);
  const valIds = encode(val);
  checkSplitSize(source, 'training', { bytes: trainBytes, tokens: trainIds.length }, preset.seqLen);
  checkSplitSize(source, 'validation', { bytes: valBytes, tokens: valIds.length }, preset.seqLen);
  const baseline = unigramBpb(trainIds, valIds, tokenizer.vocabSize, valBytes);

  const budget = presetBudget(preset);
  const total = saved?.totalSteps ?? o.steps ?? budget.steps;
  const { optimizer, schedules } = buildOptimizer(optimizerName, model, preset, total);
  const history: History = ckpt?.state.history ?? { trainLoss: [], val: [] };
  const start = ckpt?.state.step ?? 0;
  const expertLoad = new ExpertLoadRecorder(model, total, ckpt?.state.expertLoad);
  if (ckpt) {
    await restoreOptimizer(optimizer, ckpt, device);
    log(`resumed ${o.out} at step ${start}/${total}`);
  } else {
    log(
      `preset ${preset.name}: ${model.numParameters()} parameters${model.activeParameters() < model.numParameters() ? ` (${model.activeParameters()} active per token)` : ''}, ${trainIds.length} training tokens, ${total} steps of ${preset.batchSize}×${preset.seqLen} tokens; ` +
        `Chinchilla budget ${budget.tokens} tokens, 6·N·D = ${budget.flops.toExponential(2)} FLOPs; optimizer ${optimizerName}; device ${device.info.adapter}`,
    );
    log(`unigram baseline: ${baseline.toFixed(3)} bits per byte on validation`);
  }

  const eos = tokenizer.specialTokens['<|endoftext|>'];
  const files = huggingFaceFiles(tokenizer, decoderConfig(model, { bos: eos, eos }));
  const tokensPerStep = preset.batchSize * preset.seqLen;
  const r = await runStageLoop({
    stage: 'pretrain',
    run: o,
    seed,
    device,
    start,
    total,
    history,
    evalEvery: o.evalEvery ?? preset.evalInterval,
    data: (step) =>
      batchAt(trainIds, preset.batchSize, preset.seqLen, seed * 1_000_003 + step, device),
    step: async (batch, step) => {
      const loss = await languageModelStep(model, optimizer, batch);
      await expertLoad.afterStep(step + 1);
      return { loss, tokens: tokensPerStep };
    },
    evaluate: async () => {
      const loss = await validationLoss(model, valIds, {
        batches: o.evalBatches ?? 8,
        batchSize: preset.batchSize,
        seqLen: preset.seqLen,
        seed: seed * 7919,
      });
      return { loss, bpb: bitsPerByteFromMeanNll(loss, valIds.length, valBytes) };
    },
    save: async (step) => {
      await expertLoad.read(step);
      await saveCheckpoint(o.out, 'pretrain', {
        weights: { [FILES.model]: await model.save() },
        files,
        optimizer,
        optimizerName,
        state: {
          stage: 'pretrain',
          step,
          totalSteps: total,
          preset,
          model: model.config,
          seed,
          data,
          history,
          ...(model.config.ffn === 'moe' ? { expertLoad: expertLoad.history } : {}),
        },
      });
    },
    resumed: ckpt,
    tokensPerStep,
  });
  const result: PretrainResult = {
    steps: r.steps,
    totalSteps: total,
    trainLoss: history.trainLoss,
    val: history.val,
    unigramBpb: baseline,
    tokensPerSecond: r.tokensPerSecond,
    stopReason: r.stopReason,
  };
  writePretrainReport(o.out, result, r, {
    preset,
    model,
    optimizer: optimizerName,
    device,
    schedules,
    moe:
      model.config.ffn === 'moe'
        ? { load: expertLoad.history, sentence: await routeSentence(model, tokenizer, val) }
        : undefined,
  });
  return result;
}

function writePretrainReport(
  dir: string,
  r: PretrainResult,
  loop: StageLoopResult,
  meta: {
    preset: Preset;
    model: DecoderLM;
    optimizer: OptimizerName;
    device: T.Device;
    schedules: ReturnType<typeof buildOptimizer>['schedules'];
    moe?: MoERun;
  },
): void {
  const last = r.val.at(-1);
  // A run stopped by a signal keeps its last evaluation, which may be older than its last step.
  const at = last && last.step !== r.steps ? ` (at step ${last.step})` : '';
  const stopped = {
    time: 'stopped by the time limit',
    SIGINT: 'stopped by Ctrl-C (SIGINT)',
    SIGTERM: 'stopped by SIGTERM',
  };
  const moe = meta.moe && moeReport(meta.model, meta.moe);
  writeRunReport(dir, loop, {
    title: `reference-llm pretrain: ${meta.preset.name}`,
    facts: [
      ['parameters', String(meta.model.numParameters())],
      ['optimizer', meta.optimizer],
      ['device', meta.device.info.adapter],
      [
        'steps',
        `${r.steps}${r.stopReason ? ` of ${r.totalSteps} (${stopped[r.stopReason]}; the schedule was planned for ${r.totalSteps})` : ''}`,
      ],
      ['throughput', `${Math.round(r.tokensPerSecond)} tokens/s`],
      ['final train loss', `${r.trainLoss.at(-1)?.toFixed(4)} nats/token`],
      ['validation loss', `${last?.loss.toFixed(4)} nats/token${at}`],
      [
        'validation bits per byte',
        `${last?.bpb?.toFixed(3)} (unigram baseline ${r.unigramBpb.toFixed(3)})${at}`,
      ],
      ...(moe?.facts ?? []),
    ],
    summary: {
      preset: meta.preset.name,
      parameters: meta.model.numParameters(),
      optimizer: meta.optimizer,
      device: meta.device.info.adapter,
      steps: r.steps,
      totalSteps: r.totalSteps,
      stopReason: r.stopReason ?? null,
      tokensPerSecond: Math.round(r.tokensPerSecond),
      finalTrainLoss: r.trainLoss.at(-1),
      validation: last,
      unigramBitsPerByte: r.unigramBpb,
      ...moe?.summary,
    },
    history: { trainLoss: r.trainLoss, val: r.val },
    schedules: meta.schedules,
    figures: moe?.figures,
  });
}
