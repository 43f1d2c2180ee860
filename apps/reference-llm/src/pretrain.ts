import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bitsPerByteFromMeanNll } from '@tessera/eval';
import type { OptimizerState } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { type Tokenizer, toHuggingFaceJson, trainBpe } from '@tessera/tokenizer';
import { DecoderLM, type TransformerConfig } from '@tessera/transformer';
import {
  batchAt,
  byteLength,
  checkSplitSize,
  DEFAULT_DATA,
  displayPath,
  readText,
  splitText,
} from './data.js';
import { firstNonFinite } from './finite.js';
import { llamaConfig } from './hf-config.js';
import { languageModelStep, nextTokenLoss } from './lm-step.js';
import { type ModelState, readModel, readTokenizer } from './load.js';
import { type History, runTrainingLoop, type StopReason, type StopSignal } from './loop.js';
import { buildOptimizer, OPTIMIZERS, type OptimizerName } from './optimizer.js';
import { readOptimizerState } from './optimizer-state.js';
import { PRESETS, type Preset, presetBudget } from './presets.js';
import { Progress, type ProgressSink, stderrSink } from './progress.js';
import { writeReport } from './report.js';
import {
  type Checkpoint,
  FILES,
  fileError,
  prepareRunFolder,
  readCheckpoint,
  writeCheckpoint,
} from './run-folder.js';

export interface PretrainOptions {
  /** The run folder. */
  out: string;
  /** A preset or its name; default `tiny`, or the checkpoint's on `resume` (where another is an error). */
  preset?: Preset | string;
  /** Default `adamw`, or the checkpoint's on `resume` (where another is an error). */
  optimizer?: OptimizerName;
  /** Continue the checkpoint in `out` (an error when there is none). */
  resume?: boolean;
  /** Delete the checkpoint in `out` and start over (without it, an existing checkpoint is an error). */
  force?: boolean;
  /** The text; default the bundled tinyshakespeare, or the checkpoint's file on `resume`. */
  data?: string | URL;
  /** The run's length; default the preset's Chinchilla budget, or the checkpoint's on `resume`. */
  steps?: number;
  /** Validation every N steps; default the preset's `evalInterval`. */
  evalEvery?: number;
  /** Checkpoint every N steps, so a crash loses at most N; default the preset's `evalInterval`. */
  saveEvery?: number;
  /** Batches averaged for each validation figure. Default 8. */
  evalBatches?: number;
  device?: T.Device;
  /** Where progress and status lines go; default standard error. */
  sink?: ProgressSink;
  /** Set `reason` (a signal handler does) to stop after the current step and save. */
  stop?: StopSignal;
  /** Wall-clock budget in seconds: past it the run stops, evaluates, saves and reports. */
  maxSeconds?: number;
  /** Seeds the batches and dropout. Default 1. */
  seed?: number;
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

function resolvePreset(preset: Preset | string): Preset {
  if (typeof preset !== 'string') return preset;
  const found = PRESETS[preset];
  if (!found)
    throw new Error(
      `pretrain: unknown preset ${JSON.stringify(preset)}; known: ${Object.keys(PRESETS).join(', ')}`,
    );
  return found;
}

/**
 * Checks a checkpoint's settings against the options of the command that resumes it: a flag
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
  if (s.stage !== 'pretrain')
    throw field('stage', `is ${JSON.stringify(s.stage)}, expected "pretrain"`);
  if (s.preset === null || typeof s.preset !== 'object' || typeof s.preset.name !== 'string')
    throw field('preset', 'is missing: the recipe the run was started with');
  const givenPreset = o.preset === undefined ? undefined : resolvePreset(o.preset).name;
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
  if (s.optimizer.step !== s.step)
    throw field(
      'optimizer.step',
      `is ${JSON.stringify(s.optimizer.step)}, but the run is at step ${s.step} (field "step")`,
    );
  if (o.steps !== undefined && o.steps !== s.totalSteps)
    throw conflict('steps', o.steps, s.totalSteps, 'totalSteps');
  if (
    !Array.isArray(s.history?.trainLoss) ||
    s.history.trainLoss.length !== s.step ||
    !Array.isArray(s.history.val)
  )
    throw field(
      'history',
      `must hold one training loss per step done (${s.step}) and a validation list`,
    );
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
  prepareRunFolder(o.out, o);
  const ckpt = o.resume ? readCheckpoint<PretrainState>(o.out) : undefined;
  const saved = ckpt && resumeSettings(ckpt, o);
  const preset = saved?.preset ?? resolvePreset(o.preset ?? 'tiny');
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
    tokenizer = trainBpe([train], {
      vocabSize: preset.vocabSize,
      specialTokens: ['<|endoftext|>'],
    });
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
  if (ckpt) {
    try {
      await optimizer.loadStateDict(readOptimizerState(ckpt, device));
    } catch (e) {
      const message = (e as Error).message;
      throw message.includes(FILES.optimizer)
        ? e
        : fileError(join(ckpt.folder, FILES.optimizer), message);
    }
    log(`resumed ${o.out} at step ${start}/${total}`);
  } else {
    log(
      `preset ${preset.name}: ${model.numParameters()} parameters, ${trainIds.length} training tokens, ${total} steps of ${preset.batchSize}×${preset.seqLen} tokens; ` +
        `Chinchilla budget ${budget.tokens} tokens, 6·N·D = ${budget.flops.toExponential(2)} FLOPs; optimizer ${optimizerName}; device ${device.info.adapter}`,
    );
    log(`unigram baseline: ${baseline.toFixed(3)} bits per byte on validation`);
  }

  const save = async (step: number) => {
    const weights = await model.save();
    const bad = firstNonFinite(weights);
    if (bad)
      throw new Error(
        `pretrain: refusing to save weights that are not finite at step ${step} (tensor ${bad}); ${existsSync(join(o.out, FILES.pointer)) ? `the previous checkpoint in ${o.out} is kept` : 'no checkpoint was written'}`,
      );
    const { tensors, ...state } = optimizer.stateDict();
    const eos = tokenizer.specialTokens['<|endoftext|>'];
    writeCheckpoint<Omit<PretrainState, 'format' | 'version' | 'files'>>(
      o.out,
      {
        [FILES.model]: weights,
        [FILES.optimizer]: await T.saveSafetensors(tensors),
        [FILES.tokenizer]: toHuggingFaceJson(tokenizer),
        [FILES.hfConfig]: `${JSON.stringify(llamaConfig(model.config, { bos: eos, eos }), null, 1)}\n`,
      },
      {
        stage: 'pretrain',
        step,
        totalSteps: total,
        preset,
        model: model.config,
        optimizer: { name: optimizerName, ...state },
        seed,
        data,
        history,
      },
    );
  };
  const evaluate = async () => {
    let sum = 0;
    const batches = o.evalBatches ?? 8;
    for (let b = 0; b < batches; b++) {
      const batch = batchAt(valIds, preset.batchSize, preset.seqLen, seed * 7919 + b, device);
      const loss = T.noGrad(() => T.tidy(() => nextTokenLoss(model, batch)));
      sum += await loss.item();
      for (const t of [batch.x, batch.y, loss]) t.dispose();
    }
    const loss = sum / batches;
    return { loss, bpb: bitsPerByteFromMeanNll(loss, valIds.length, valBytes) };
  };

  const r = await runTrainingLoop({
    start,
    total,
    data: (step) =>
      batchAt(trainIds, preset.batchSize, preset.seqLen, seed * 1_000_003 + step, device),
    step: (batch, step) => {
      T.manualSeed(seed + step); // dropout masks, reproducible on resume
      return languageModelStep(model, optimizer, batch);
    },
    evaluate: { every: o.evalEvery ?? preset.evalInterval, run: evaluate },
    checkpoint: { every: o.saveEvery ?? preset.evalInterval, save },
    history,
    progress: new Progress('pretrain', total, sink, start),
    stop: o.stop,
    maxSeconds: o.maxSeconds,
    tokensPerStep: preset.batchSize * preset.seqLen,
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
  writePretrainReport(o.out, result, {
    preset,
    model,
    optimizer: optimizerName,
    device,
    schedules,
  });
  return result;
}

function writePretrainReport(
  dir: string,
  r: PretrainResult,
  meta: {
    preset: Preset;
    model: DecoderLM;
    optimizer: OptimizerName;
    device: T.Device;
    schedules: ReturnType<typeof buildOptimizer>['schedules'];
  },
): void {
  const last = r.val.at(-1);
  const stopped = {
    time: 'stopped by the time limit',
    SIGINT: 'stopped by Ctrl-C (SIGINT)',
    SIGTERM: 'stopped by SIGTERM',
  };
  writeReport(dir, {
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
      ['validation loss', `${last?.loss.toFixed(4)} nats/token`],
      [
        'validation bits per byte',
        `${last?.bpb?.toFixed(3)} (unigram baseline ${r.unigramBpb.toFixed(3)})`,
      ],
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
    },
    history: { trainLoss: r.trainLoss, val: r.val },
    schedules: meta.schedules,
  });
}
