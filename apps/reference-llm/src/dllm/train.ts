import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MaskedDiffusionLM } from '@tessera/dllm';
import { bitsPerByteFromMeanNll } from '@tessera/eval';
import type { OptimizerState } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { toHuggingFaceJson } from '@tessera/tokenizer';
import type { TransformerConfig } from '@tessera/transformer';
import { batchAt } from '../batch.js';
import {
  byteLength,
  checkSplitSize,
  DEFAULT_DATA,
  displayPath,
  readText,
  splitText,
} from '../data.js';
import { firstNonFinite } from '../finite.js';
import { type History, runTrainingLoop, type StopReason, type StopSignal } from '../loop.js';
import { buildOptimizer, OPTIMIZERS, type OptimizerName } from '../optimizer.js';
import { readOptimizerState } from '../optimizer-state.js';
import { type Preset, presetBudget } from '../presets.js';
import { resolvePreset, trainTokenizer } from '../pretrain.js';
import { Progress, type ProgressSink, stderrSink } from '../progress.js';
import { writeReport } from '../report.js';
import {
  type Checkpoint,
  checkRunFolder,
  claimRunFolder,
  FILES,
  fileError,
  readCheckpoint,
  writeCheckpoint,
} from '../run-folder.js';
import { type DiffusionModelState, readDiffusionModel, readDiffusionTokenizer } from './load.js';
import { diffusionLoss, diffusionStep } from './step.js';
import { MASK_TOKEN, withMaskToken } from './tokenizer.js';

export interface DiffusionTrainOptions {
  /** The run folder. */
  out: string;
  /** A preset or its name; default `tiny`, or the checkpoint's on `resume`. */
  preset?: Preset | string;
  /** Default `adamw`, or the checkpoint's on `resume`. */
  optimizer?: OptimizerName;
  /** Continue the checkpoint in `out`. */
  resume?: boolean;
  /** Delete the checkpoint in `out` and start over. */
  force?: boolean;
  /** The text; default the bundled tinyshakespeare, or the checkpoint's on `resume`. */
  data?: string | URL;
  /** The run's length; default the preset's Chinchilla budget (the same as `pretrain`'s). */
  steps?: number;
  evalEvery?: number;
  saveEvery?: number;
  /** Batches averaged for each validation figure. Default 8. */
  evalBatches?: number;
  device?: T.Device;
  sink?: ProgressSink;
  stop?: StopSignal;
  maxSeconds?: number;
  /** Seeds the batches and the masks. Default 1. */
  seed?: number;
}

export interface DiffusionTrainResult {
  steps: number;
  totalSteps: number;
  trainLoss: number[];
  val: History['val'];
  tokensPerSecond: number;
  stopReason?: StopReason;
}

/** `tessera.json` of a diffusion checkpoint. */
export interface DiffusionTrainState extends DiffusionModelState {
  preset: Preset;
  model: TransformerConfig;
  optimizer: { name: OptimizerName } & Omit<OptimizerState, 'tensors'>;
  seed: number;
  data: { path: string; bytes: number; sha256: string };
  history: History;
}

/** The run's settings from its checkpoint; a flag that differs from them is an error naming both. */
function resumeSettings(ckpt: Checkpoint<DiffusionTrainState>, o: DiffusionTrainOptions) {
  const s = ckpt.state;
  const conflict = (flag: string, given: unknown, saved: unknown) =>
    new Error(
      `--${flag} ${given} conflicts with the checkpoint, which was started with ${saved} (${ckpt.stateFile}); leave --${flag} out to resume, or pass --force to start over`,
    );
  if (s.stage !== 'dllm')
    throw fileError(ckpt.stateFile, `field "stage" is ${JSON.stringify(s.stage)}, expected "dllm"`);
  const preset = o.preset === undefined ? undefined : resolvePreset(o.preset).name;
  if (preset !== undefined && preset !== s.preset?.name)
    throw conflict('preset', preset, s.preset?.name);
  if (!OPTIMIZERS.includes(s.optimizer?.name))
    throw fileError(
      ckpt.stateFile,
      `field "optimizer.name" is ${JSON.stringify(s.optimizer?.name)}`,
    );
  if (o.optimizer !== undefined && o.optimizer !== s.optimizer.name)
    throw conflict('optimizer', o.optimizer, s.optimizer.name);
  if (o.steps !== undefined && o.steps !== s.totalSteps)
    throw conflict('steps', o.steps, s.totalSteps);
  if (s.history?.trainLoss?.length !== s.step)
    throw fileError(
      ckpt.stateFile,
      `field "history" must hold one training loss per step done (${s.step})`,
    );
  return s;
}

/**
 * Trains a masked diffusion LM (LLaDA, MDLM) on a text with the recipe of `pretrain`: the same
 * training split and tokenizer (byte-level BPE trained on the split exactly as `pretrain` does,
 * plus the mask token `<|mdm_mask|>` appended), the preset's model shape without the causal mask,
 * its Chinchilla budget, optimizer, schedules and clipping, through the app's training loop.
 * Each step masks every window with its own rate t (seeded by the step, so a resumed run follows
 * the same trajectory) and minimises LLaDA's loss. Validation reports the same loss on fixed
 * validation windows and masks, and the bits per byte it bounds (a Monte Carlo estimate of the
 * ELBO bound; `dllm eval` computes it over the whole split). Checkpoints, resume checks, signals
 * and the report work as in `pretrain`.
 */
export async function trainDiffusion(o: DiffusionTrainOptions): Promise<DiffusionTrainResult> {
  const sink = o.sink ?? stderrSink;
  const log = (line: string) => sink.write(`${line}\n`);
  const device = o.device ?? T.getDefaultDevice();
  checkRunFolder(o.out, o);
  const ckpt = o.resume ? readCheckpoint<DiffusionTrainState>(o.out) : undefined;
  const saved = ckpt && resumeSettings(ckpt, o);
  const preset = saved?.preset ?? resolvePreset(o.preset ?? 'tiny');
  const optimizerName = saved?.optimizer.name ?? o.optimizer ?? 'adamw';
  const seed = saved?.seed ?? o.seed ?? 1;
  const dataPath =
    o.data ??
    (saved ? (saved.data.path === 'bundled' ? DEFAULT_DATA : saved.data.path) : DEFAULT_DATA);
  const source = `--data ${displayPath(dataPath)}`;
  const text = readText(dataPath);
  const data = {
    path: dataPath === DEFAULT_DATA ? 'bundled' : displayPath(dataPath),
    bytes: byteLength(text),
    sha256: createHash('sha256').update(text).digest('hex'),
  };
  if (saved && saved.data.sha256 !== data.sha256)
    throw new Error(
      `${source} is not the text the checkpoint was trained on (${ckpt!.stateFile} field "data": ${saved.data.path}, SHA-256 ${saved.data.sha256.slice(0, 12)}…)`,
    );
  const { train, val } = splitText(text);
  checkSplitSize(source, 'training', { bytes: byteLength(train) }, preset.seqLen);
  checkSplitSize(source, 'validation', { bytes: byteLength(val) }, preset.seqLen);

  let model: MaskedDiffusionLM;
  let tokenizer: ReturnType<typeof withMaskToken>;
  if (ckpt) {
    model = readDiffusionModel(ckpt, device);
    tokenizer = readDiffusionTokenizer(ckpt, model);
  } else {
    log(`training a ${preset.vocabSize}-token BPE tokenizer as pretrain does, plus ${MASK_TOKEN}…`);
    tokenizer = withMaskToken(trainTokenizer(train, preset));
    const maskId = tokenizer.specialTokens[MASK_TOKEN]!;
    model = new MaskedDiffusionLM(
      { ...preset.model, vocabSize: tokenizer.vocabSize },
      { maskId },
      device,
    );
  }
  const encode = (s: string) => Int32Array.from(tokenizer.encode(s, { disallowedSpecial: [] }));
  const trainIds = encode(train);
  const valIds = encode(val);
  const valBytes = byteLength(val);
  checkSplitSize(
    source,
    'training',
    { bytes: byteLength(train), tokens: trainIds.length },
    preset.seqLen,
  );
  checkSplitSize(source, 'validation', { bytes: valBytes, tokens: valIds.length }, preset.seqLen);

  const total = saved?.totalSteps ?? o.steps ?? presetBudget(preset).steps;
  const { optimizer, schedules } = buildOptimizer(optimizerName, model, preset, total);
  const history: History = saved?.history ?? { trainLoss: [], val: [] };
  const start = saved?.step ?? 0;
  if (ckpt) {
    await optimizer.loadStateDict(readOptimizerState(ckpt, device));
    log(`resumed ${o.out} at step ${start}/${total}`);
  } else
    log(
      `dllm ${preset.name}: ${model.numParameters()} parameters, mask id ${model.maskId}, ${trainIds.length} training tokens, ${total} steps of ${preset.batchSize}×${preset.seqLen} tokens; optimizer ${optimizerName}; device ${device.info.adapter}`,
    );

  const windows = (ids: Int32Array, batchSeed: number) => {
    const { x, y } = batchAt(ids, preset.batchSize, preset.seqLen, batchSeed, device);
    y.dispose();
    return x;
  };
  // Every input has passed its checks: claim the folder (its lock; a --force run's old
  // checkpoint stays until the first new one is saved).
  const claim = claimRunFolder(o.out, o, ckpt);
  const save = async (step: number) => {
    const weights = await model.save();
    const bad = firstNonFinite(weights);
    if (bad)
      throw new Error(
        `dllm train: refusing to save weights that are not finite at step ${step} (tensor ${bad}); ${existsSync(join(o.out, FILES.pointer)) ? `the previous checkpoint in ${o.out} is kept` : 'no checkpoint was written'}`,
      );
    const { tensors, ...state } = optimizer.stateDict();
    writeCheckpoint<Omit<DiffusionTrainState, 'format' | 'version' | 'files'>>(
      o.out,
      {
        [FILES.model]: weights,
        [FILES.optimizer]: await T.saveSafetensors(tensors),
        [FILES.tokenizer]: toHuggingFaceJson(tokenizer),
      },
      {
        stage: 'dllm',
        step,
        totalSteps: total,
        preset,
        model: model.config,
        maskId: model.maskId,
        optimizer: { name: optimizerName, ...state },
        seed,
        data,
        history,
      },
    );
    claim.saved();
  };
  // Validation: the loss on fixed windows with fixed masks, so that figures compare across steps.
  const evaluate = async () => {
    let sum = 0;
    const batches = o.evalBatches ?? 8;
    model.eval();
    for (let b = 0; b < batches; b++) {
      const ids = windows(valIds, seed * 7919 + b);
      const loss = T.noGrad(() => T.tidy(() => diffusionLoss(model, ids, seed * 104_729 + b)));
      sum += await loss.item();
      for (const t of [ids, loss]) t.dispose();
    }
    model.train();
    const loss = sum / batches;
    return { loss, bpb: bitsPerByteFromMeanNll(loss, valIds.length, valBytes) };
  };

  const r = await runTrainingLoop({
    start,
    total,
    data: (step) => windows(trainIds, seed * 1_000_003 + step),
    step: (ids, step) => diffusionStep(model, optimizer, ids, seed * 7_777_777 + step),
    evaluate: { every: o.evalEvery ?? preset.evalInterval, run: evaluate },
    checkpoint: { every: o.saveEvery ?? preset.evalInterval, save },
    history,
    progress: new Progress('dllm', total, sink, start),
    stop: o.stop,
    maxSeconds: o.maxSeconds,
    tokensPerStep: preset.batchSize * preset.seqLen,
  }).finally(() => claim.release());
  const last = history.val.at(-1);
  writeReport(o.out, {
    title: `reference-llm dllm train: ${preset.name}`,
    facts: [
      ['parameters', String(model.numParameters())],
      ['mask token', `${MASK_TOKEN} (id ${model.maskId})`],
      ['optimizer', optimizerName],
      ['device', device.info.adapter],
      ['steps', `${r.steps}${r.stopReason ? ` of ${total} (stopped: ${r.stopReason})` : ''}`],
      ['throughput', `${Math.round(r.tokensPerSecond)} tokens/s`],
      ['final train loss', `${history.trainLoss.at(-1)?.toFixed(4)} nats/token (LLaDA's loss)`],
      ['validation loss', `${last?.loss.toFixed(4)} nats/token`],
      [
        'validation bits per byte',
        `≤ ${last?.bpb?.toFixed(3)} (ELBO bound, Monte Carlo on ${o.evalBatches ?? 8} batches)`,
      ],
    ],
    summary: {
      stage: 'dllm',
      preset: preset.name,
      parameters: model.numParameters(),
      maskId: model.maskId,
      optimizer: optimizerName,
      device: device.info.adapter,
      steps: r.steps,
      totalSteps: total,
      stopReason: r.stopReason ?? null,
      tokensPerSecond: Math.round(r.tokensPerSecond),
      finalTrainLoss: history.trainLoss.at(-1),
      validation: last,
    },
    history,
    schedules,
  });
  model.dispose();
  optimizer.dispose();
  return {
    steps: r.steps,
    totalSteps: total,
    trainLoss: history.trainLoss,
    val: history.val,
    tokensPerSecond: r.tokensPerSecond,
    stopReason: r.stopReason,
  };
}
