import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bitsPerByteFromMeanNll } from '@tessera/eval';
import {
  AdamW,
  type BaseOptions,
  clipGradNorm,
  Muon,
  muonParamGroups,
  type Optimizer,
  type OptimizerState,
  warmupCosine,
} from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import {
  fromHuggingFaceJson,
  type Tokenizer,
  toHuggingFaceJson,
  trainBpe,
} from '@tessera/tokenizer';
import { DecoderLM } from '@tessera/transformer';
import {
  ensureDir,
  FILES,
  readCheckpointFile,
  readCheckpointJson,
  writeAtomic,
} from './checkpoint.js';
import { PRESETS, type Preset, presetBudget } from './presets.js';
import { writeReport } from './report.js';

export const DEFAULT_DATA = new URL('../data/tinyshakespeare.txt', import.meta.url);

export interface PretrainOptions {
  preset: Preset | keyof typeof PRESETS;
  out: string;
  optimizer?: 'adamw' | 'muon';
  resume?: boolean;
  data?: string | URL;
  /** Override the Chinchilla step count (tests, quick runs). */
  steps?: number;
  /** Batches averaged for each validation figure. Default 8. */
  evalBatches?: number;
  device?: T.Device;
  log?: (line: string) => void;
  /** Set `stop` to true (Ctrl-C) to save a checkpoint and return early. */
  control?: { stop: boolean };
  /**
   * Wall-clock budget in seconds for this call: past it, training stops after the current step,
   * evaluates, saves a checkpoint (resumable) and writes the report of the steps done.
   */
  maxSeconds?: number;
  seed?: number;
}

export interface PretrainResult {
  steps: number;
  trainLoss: number[];
  val: { step: number; loss: number; bpb: number }[];
  unigramBpb: number;
  tokensPerSecond: number;
  stoppedEarly: boolean;
  /** Steps the full run has (the schedule's length); `steps` < `totalSteps` when stopped early. */
  totalSteps: number;
  /** Why training stopped before `totalSteps`: Ctrl-C (`interrupted`) or `maxSeconds` (`time`). */
  stopReason?: 'interrupted' | 'time';
}

interface SavedConfig {
  preset: string;
  model: ConstructorParameters<typeof DecoderLM>[0];
  optimizer: 'adamw' | 'muon';
  step: number;
  totalSteps: number;
  seed: number;
  optimizerState: Omit<OptimizerState, 'tensors'>;
  history: Pick<PretrainResult, 'trainLoss' | 'val'>;
}

/** The text split 90/10 at a line break: training and validation. */
export function splitText(text: string): { train: string; val: string } {
  const cut = text.indexOf('\n', Math.floor(text.length * 0.9));
  return { train: text.slice(0, cut + 1), val: text.slice(cut + 1) };
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

/** A batch of (input, target) windows at seeded random offsets: the same step always gets the same batch. */
function batchAt(
  ids: Int32Array,
  batch: number,
  seqLen: number,
  seed: number,
  device: T.Device,
): { x: T.Tensor; y: T.Tensor } {
  const rng = new T.Rng(seed);
  const xs = new Int32Array(batch * seqLen);
  const ys = new Int32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    const o = Math.floor(rng.next() * (ids.length - seqLen - 1));
    xs.set(ids.subarray(o, o + seqLen), b * seqLen);
    ys.set(ids.subarray(o + 1, o + seqLen + 1), b * seqLen);
  }
  return {
    x: T.tensor(xs, { shape: [batch, seqLen], device }),
    y: T.tensor(ys, { shape: [batch * seqLen], device }),
  };
}

/**
 * One optimisation step on a batch: forward, backward, the global gradient norm clipped to 1,
 * the update (at the rates the optimizer's schedules give). Frees the batch; returns the loss read back.
 */
export async function trainStep(
  model: DecoderLM,
  optimizer: Optimizer<BaseOptions>,
  x: T.Tensor,
  y: T.Tensor,
): Promise<number> {
  const loss = T.tidy(() => {
    optimizer.zeroGrad();
    const l = lossOf(model, x, y);
    l.backward();
    clipGradNorm(model.parameters(), 1.0).dispose();
    optimizer.step();
    return l;
  });
  const value = await loss.item();
  for (const t of [x, y, loss]) t.dispose();
  return value;
}

function lossOf(model: DecoderLM, x: T.Tensor, y: T.Tensor): T.Tensor {
  const logits = model.forward(x);
  return T.crossEntropy(T.reshape(logits, [-1, model.vocabSize]), y);
}

/**
 * The optimizer of a run of `total` steps. Each learning rate is a warmup + cosine schedule
 * inside the optimizer (peak `preset.lr` for AdamW, and for Muon's AdamW part; 0.02 for Muon's
 * matrices), read at the optimizer's own step counter, which its saved state carries.
 */
export function makeOptimizer(
  kind: 'adamw' | 'muon',
  model: DecoderLM,
  preset: Preset,
  total: number,
): Optimizer<BaseOptions> {
  const schedule = (lr: number) =>
    warmupCosine({ lr, warmup: Math.min(preset.warmupSteps, total), total, minLr: lr / 10 });
  const adam = {
    lr: schedule(preset.lr),
    betas: [0.9, 0.95] as [number, number],
    weightDecay: 0.1,
  };
  if (kind === 'adamw') return new AdamW(model.parameters(), adam);
  return new Muon(muonParamGroups(model.namedParameters()), {
    lr: schedule(0.02),
    weightDecay: 0.01,
    adamw: adam,
  });
}

/**
 * Pretrains a DecoderLM on a text: trains a BPE tokenizer on the training split, then the model
 * with AdamW or Muon, warmup + cosine decay and gradient clipping at 1.0, evaluating validation
 * loss and bits per byte at intervals. Checkpoints (weights, optimizer state, tokenizer, config)
 * are written atomically; `resume` continues a checkpoint on the same trajectory.
 */
export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const preset = typeof o.preset === 'string' ? PRESETS[o.preset] : o.preset;
  if (!preset)
    throw new Error(
      `pretrain: unknown preset ${JSON.stringify(o.preset)}; known: ${Object.keys(PRESETS).join(', ')}`,
    );
  const log = o.log ?? ((line: string) => console.log(line));
  const device = o.device ?? T.getDefaultDevice();
  const kind = o.optimizer ?? 'adamw';
  const seed = o.seed ?? 1;
  const text = readFileSync(o.data ?? DEFAULT_DATA, 'utf8');
  const { train, val } = splitText(text);
  ensureDir(o.out);

  const saved = o.resume ? readCheckpointJson<SavedConfig>(o.out, FILES.config) : undefined;
  let tokenizer: Tokenizer;
  if (saved)
    tokenizer = fromHuggingFaceJson(
      readCheckpointFile(o.out, FILES.tokenizer).toString('utf8'),
    ) as Tokenizer;
  else {
    const t0 = performance.now();
    tokenizer = trainBpe([train], {
      vocabSize: preset.vocabSize,
      specialTokens: ['<|endoftext|>'],
    });
    log(
      `tokenizer: ${tokenizer.vocabSize} tokens trained in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const trainIds = Int32Array.from(tokenizer.encode(train, { disallowedSpecial: [] }));
  const valIds = Int32Array.from(tokenizer.encode(val, { disallowedSpecial: [] }));
  const valBytes = new TextEncoder().encode(val).length;
  const baseline = unigramBpb(trainIds, valIds, tokenizer.vocabSize, valBytes);

  const modelConfig = saved?.model ?? { ...preset.model, vocabSize: tokenizer.vocabSize };
  const model = new DecoderLM(modelConfig, device);
  const budget = presetBudget(preset);
  const total = saved?.totalSteps ?? o.steps ?? budget.steps;
  const optimizer = makeOptimizer(saved?.optimizer ?? kind, model, preset, total);
  const history: Pick<PretrainResult, 'trainLoss' | 'val'> = saved?.history ?? {
    trainLoss: [],
    val: [],
  };
  let step = 0;
  if (saved) {
    model.load(new Uint8Array(readCheckpointFile(o.out, FILES.model)));
    const tensors = T.loadSafetensors(new Uint8Array(readCheckpointFile(o.out, FILES.optimizer)), {
      device,
      name: join(o.out, FILES.optimizer),
    });
    await optimizer.loadStateDict({ ...saved.optimizerState, tensors });
    step = saved.step;
    log(`resumed ${o.out} at step ${step}/${total}`);
  } else {
    log(
      `preset ${preset.name}: ${model.numParameters()} parameters, ${trainIds.length} training tokens, ${total} steps of ${preset.batchSize}×${preset.seqLen} tokens; ` +
        `Chinchilla budget ${budget.tokens} tokens, 6·N·D = ${budget.flops.toExponential(2)} FLOPs; optimizer ${kind}; device ${device.info.adapter}`,
    );
    log(`unigram baseline: ${baseline.toFixed(3)} bits per byte on validation`);
  }

  const save = async () => {
    const { tensors, ...optimizerState } = optimizer.stateDict();
    writeAtomic(join(o.out, FILES.model), await model.save());
    writeAtomic(join(o.out, FILES.optimizer), await T.saveSafetensors(tensors));
    writeAtomic(join(o.out, FILES.tokenizer), toHuggingFaceJson(tokenizer));
    const config: SavedConfig = {
      preset: preset.name,
      model: modelConfig,
      optimizer: saved?.optimizer ?? kind,
      step,
      totalSteps: total,
      seed,
      optimizerState,
      history,
    };
    writeAtomic(join(o.out, FILES.config), JSON.stringify(config, null, 1));
  };

  const evaluate = async (): Promise<number> => {
    let sum = 0;
    const batches = o.evalBatches ?? 8;
    for (let b = 0; b < batches; b++) {
      const { x, y } = batchAt(valIds, preset.batchSize, preset.seqLen, seed * 7919 + b, device);
      const loss = T.noGrad(() => T.tidy(() => lossOf(model, x, y)));
      sum += await loss.item();
      for (const t of [x, y, loss]) t.dispose();
    }
    return sum / batches;
  };

  const tokensPerStep = preset.batchSize * preset.seqLen;
  const started = performance.now();
  const firstStep = step;
  let stopReason: PretrainResult['stopReason'];
  if (o.maxSeconds !== undefined && !(o.maxSeconds > 0))
    throw new RangeError(`pretrain: maxSeconds must be > 0, got ${o.maxSeconds}`);
  while (step < total) {
    if (o.control?.stop) {
      stopReason = 'interrupted';
      break;
    }
    if (o.maxSeconds !== undefined && (performance.now() - started) / 1000 >= o.maxSeconds) {
      stopReason = 'time';
      break;
    }
    const { x, y } = batchAt(
      trainIds,
      preset.batchSize,
      preset.seqLen,
      seed * 1_000_003 + step,
      device,
    );
    T.manualSeed(seed + step); // dropout masks, reproducible on resume
    const value = await trainStep(model, optimizer, x, y);
    if (!Number.isFinite(value))
      throw new Error(
        `pretrain: the loss became ${value} at step ${step}; lower the learning rate or check the data`,
      );
    history.trainLoss.push(value);
    step++;
    const elapsed = (performance.now() - started) / 1000;
    const rate = ((step - firstStep) * tokensPerStep) / elapsed;
    const eta = ((total - step) * tokensPerStep) / rate;
    if (step % preset.evalInterval === 0 || step === total) {
      const vl = await evaluate();
      const bpb = bitsPerByteFromMeanNll(vl, valIds.length, valBytes);
      history.val.push({ step, loss: vl, bpb });
      log(
        `step ${step}/${total}  train ${value.toFixed(4)}  val ${vl.toFixed(4)} (${bpb.toFixed(3)} bits/byte)  ${rate.toFixed(0)} tok/s`,
      );
      await save();
    } else if (step % 20 === 0 || step === firstStep + 1) {
      progress(
        `${progressBar(step / total)} step ${step}/${total}  loss ${value.toFixed(4)}  ${rate.toFixed(0)} tok/s  ETA ${formatSeconds(eta)}`,
        log,
      );
    }
  }
  if (stopReason === 'time' && history.val.at(-1)?.step !== step && step > 0) {
    // A run cut by its time budget still reports where it got to.
    const vl = await evaluate();
    history.val.push({ step, loss: vl, bpb: bitsPerByteFromMeanNll(vl, valIds.length, valBytes) });
  }
  if (stopReason) {
    await save();
    const why = stopReason === 'time' ? `the ${formatSeconds(o.maxSeconds!)} time limit` : 'Ctrl-C';
    log(
      `stopped by ${why} at step ${step}/${total}; checkpoint saved in ${o.out} (resume with --resume)`,
    );
  }
  const seconds = (performance.now() - started) / 1000;
  const result: PretrainResult = {
    steps: step,
    totalSteps: total,
    trainLoss: history.trainLoss,
    val: history.val,
    unigramBpb: baseline,
    tokensPerSecond: ((step - firstStep) * tokensPerStep) / Math.max(seconds, 1e-9),
    stoppedEarly: stopReason !== undefined,
    stopReason,
  };
  if (stopReason !== 'interrupted')
    writeReport(o.out, preset, result, {
      parameters: model.numParameters(),
      optimizer: saved?.optimizer ?? kind,
      device: device.info.adapter,
    });
  return result;
}

/** A status line: rewritten in place on a terminal, a plain line in logs. */
function progress(line: string, log: (line: string) => void): void {
  if (process.stdout.isTTY && log === console.log) process.stdout.write(`\r${line.padEnd(100)}`);
  else log(line);
}

/** `[██████░░░░░░░░░░░░░░]  30%`: a fixed-width bar for the status line. */
export function progressBar(fraction: number, width = 20): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${String(Math.floor(100 * f)).padStart(3)}%`;
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s % 60)}s` : `${Math.round(s)}s`;
}
