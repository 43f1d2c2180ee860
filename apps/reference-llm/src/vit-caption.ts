import { join } from 'node:path';
import { AdamW, clipGradNorm, type Schedule, warmupCosine } from '@tessera/optim';
import { type GenerateStreamOptions, generate } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { type Tokenizer, toHuggingFaceJson } from '@tessera/tokenizer';
import { DecoderLM, type TransformerConfig } from '@tessera/transformer';
import { VisionProjector, ViT, type ViTConfig } from '@tessera/vit';
import { Captioner, captionOf, DIGIT_WORDS, imageConditioned } from './captioner.js';
import { type DigitImage, readPngDigit } from './digit-image.js';
import { firstNonFinite } from './finite.js';
import { loadCheckpoint, readTokenizer } from './load.js';
import { type History, runTrainingLoop, type StopReason, type StopSignal } from './loop.js';
import { type Digits, digitBatch, normalizePixels, readMnist, splitDigits } from './mnist.js';
import { Progress, type ProgressSink, stderrSink } from './progress.js';
import { writeReport } from './report.js';
import {
  type CheckpointStateBase,
  checkRunFolder,
  claimRunFolder,
  FILES,
  fileError,
  readCheckpoint,
  writeCheckpoint,
} from './run-folder.js';
import { readVit } from './vit-checkpoint.js';

/** Files of a caption checkpoint besides the decoder's `model.safetensors` and `tokenizer.json`. */
export const CAPTION_FILES = {
  projector: 'projector.safetensors',
  vit: 'vit.safetensors',
} as const;

/** `tessera.json` of a `vit caption` checkpoint: the three models' configs and the run. */
export interface CaptionState extends CheckpointStateBase {
  stage: 'caption';
  vit: ViTConfig;
  /** The decoder's config (`model` is the name every stage uses for the language model). */
  model: TransformerConfig;
  projector: { visionDim: number; textDim: number };
  /** The run folders the ViT and the decoder came from. */
  from: { vit: string; lm: string };
  recipe: { steps: number; batchSize: number; lr: number; seed: number };
  history: History;
}

export interface CaptionTrainOptions {
  /** The run folder. */
  out: string;
  /** A `vit train` run folder: its ViT encodes the images (frozen). */
  vit: string;
  /** A `pretrain` run folder: its decoder and tokenizer are tuned to caption. */
  lm: string;
  /** Default 300. */
  steps?: number;
  /** Default 32. */
  batchSize?: number;
  /** Peak learning rate of AdamW for the projector and the decoder. Default 2e-3. */
  lr?: number;
  seed?: number;
  /** Held-out caption accuracy on `evalDigits` digits every N steps (default 100). */
  evalEvery?: number;
  /**
   * Held-out digits captioned at each evaluation (default 200); the final one captions all 2,000
   * (`finalDigits`), or only these when a signal stopped the run.
   */
  evalDigits?: number;
  /** Digits captioned at the end (default: every held-out digit). */
  finalDigits?: number;
  force?: boolean;
  device?: T.Device;
  sink?: ProgressSink;
  stop?: StopSignal;
}

export interface CaptionTrainResult {
  steps: number;
  history: History;
  /** Share of held-out digits whose greedy caption is exactly "a handwritten <digit>". */
  accuracy: number;
  /** Digits captioned for `accuracy`. */
  digits: number;
  /** The ViT's own classification accuracy on the same digits, for comparison. */
  vitAccuracy: number;
  /** A few held-out digits: label and caption. */
  samples: { label: number; caption: string }[];
  stopReason?: StopReason;
}

/** A caption batch: images, the text ids `[eos] caption [eos]` padded with eos, and the targets. */
export function captionBatch(
  digits: Digits,
  indices: ArrayLike<number>,
  tokenizer: Tokenizer,
  patches: number,
  device: T.Device,
  augment: { shift?: number; seed?: number } = {},
): { x: T.Tensor; ids: T.Tensor; targets: T.Tensor } {
  const eos = eosOf(tokenizer);
  const texts = Array.from(indices, (i) => [
    eos,
    ...tokenizer.encode(captionOf(digits.labels[i]!)),
    eos,
  ]);
  const width = Math.max(...texts.map((t) => t.length));
  const ids = new Int32Array(indices.length * width).fill(eos);
  // Position p of [image tokens] + text predicts what follows it: the image positions and the
  // padding predict nothing (-100, ignored); text position j predicts text token j + 1.
  const targets = new Int32Array(indices.length * (patches + width)).fill(-100);
  texts.forEach((t, b) => {
    ids.set(t, b * width);
    for (let j = 0; j + 1 < t.length; j++) targets[b * (patches + width) + patches + j] = t[j + 1]!;
  });
  const { x, y } = digitBatch(digits, indices, device, augment);
  y.dispose();
  return {
    x,
    ids: T.tensor(ids, { shape: [indices.length, width], device }),
    targets: T.tensor(targets, { shape: [indices.length, patches + width], device }),
  };
}

function eosOf(tokenizer: Tokenizer): number {
  const eos = tokenizer.specialTokens['<|endoftext|>'];
  if (eos === undefined)
    throw new Error(
      'vit caption: the tokenizer has no <|endoftext|> token to open and close captions',
    );
  return eos;
}

/** Mean cross-entropy of the caption tokens (and the closing eos) given the image. */
export function captionLoss(
  captioner: Captioner,
  batch: ReturnType<typeof captionBatch>,
): T.Tensor {
  const logits = captioner.forward(batch.x, batch.ids);
  return T.crossEntropy(
    T.reshape(logits, [-1, captioner.lm.vocabSize]),
    T.reshape(batch.targets, [-1]),
  );
}

/**
 * The caption of one digit: the decoder reads its image tokens, then `<|endoftext|>`, and
 * generates until `<|endoftext|>` through the sampler's `generate` (greedy by default; every
 * sampling option applies). `onText` gets each piece as it comes.
 */
export async function captionDigit(
  captioner: Captioner,
  tokenizer: Tokenizer,
  digit: DigitImage,
  options: GenerateStreamOptions & { onText?: (piece: string) => void } = {},
): Promise<string> {
  const { onText, ...generateOptions } = options;
  const device = captioner.lm.device;
  const image = T.tensor(normalizePixels(digit.pixels), {
    shape: [1, 1, digit.rows, digit.cols],
    device,
  });
  const model = imageConditioned(captioner, image);
  const eos = eosOf(tokenizer);
  const ids: number[] = [];
  try {
    for await (const id of generate(model, [eos], {
      temperature: 0,
      maxNewTokens: 16,
      ...generateOptions,
      stopTokenIds: [eos, ...(generateOptions.stopTokenIds ?? [])],
    })) {
      if (id === eos) break;
      ids.push(id);
      onText?.(tokenizer.decode([id]));
    }
  } finally {
    model.dispose();
    image.dispose();
  }
  return tokenizer.decode(ids);
}

/**
 * Greedy captions of a batch of digits at once: the image tokens computed once, then each step
 * one forward of `[image tokens] <|endoftext|> caption so far` for every row and the most likely
 * next token, until every row has closed with `<|endoftext|>` (or `maxNewTokens`, 16 by default).
 * The same tokens as `captionDigit` at temperature 0, one digit at a time, in a batch's time.
 * `images`: f32 [B, channels, height, width], normalised as `digitBatch` makes them.
 */
export async function captionImages(
  captioner: Captioner,
  tokenizer: Tokenizer,
  images: T.Tensor,
  maxNewTokens = 16,
): Promise<string[]> {
  const { lm } = captioner;
  const eos = eosOf(tokenizer);
  const b = images.shape[0]!;
  const rows: number[][] = Array.from({ length: b }, () => [eos]);
  const open = new Set(rows.keys());
  const prefix = T.noGrad(() => captioner.imageTokens(images));
  for (let step = 0; step < maxNewTokens && open.size > 0; step++) {
    const next = T.noGrad(() =>
      T.tidy(() => {
        const ids = T.tensor(Int32Array.from(rows.flat()), {
          shape: [b, step + 1],
          device: lm.device,
        });
        const logits = lm.forward(T.cat([prefix, lm.model.embed(ids)], 1));
        return T.argmax(T.slice(logits, 1, -1), -1);
      }),
    );
    const chosen = await next.data();
    next.dispose();
    rows.forEach((row, r) => {
      row.push(open.has(r) ? chosen[r]! : eos);
      if (chosen[r] === eos) open.delete(r);
    });
  }
  prefix.dispose();
  return rows.map((row) => {
    const end = row.indexOf(eos, 1);
    return tokenizer.decode(row.slice(1, end < 0 ? undefined : end));
  });
}

/** Greedy captions of `digits[indices]` (in batches of 250): the share exactly right, and the captions. */
export async function captionAccuracy(
  captioner: Captioner,
  tokenizer: Tokenizer,
  digits: Digits,
  indices: ArrayLike<number>,
): Promise<{ accuracy: number; captions: string[] }> {
  const all = Int32Array.from(indices);
  const captions: string[] = [];
  for (let start = 0; start < all.length; start += 250) {
    const { x, y } = digitBatch(digits, all.subarray(start, start + 250), captioner.lm.device);
    captions.push(...(await captionImages(captioner, tokenizer, x)));
    x.dispose();
    y.dispose();
  }
  const right = captions.filter((c, k) => c.trim() === captionOf(digits.labels[all[k]!]!)).length;
  return { accuracy: right / Math.max(1, captions.length), captions };
}

/**
 * `vit caption`: the first multimodal step. The ViT of a `vit train` run (frozen) encodes each
 * digit into patch features, a two-layer projector (trained from scratch) maps them into the
 * embedding space of a `pretrain` run's decoder, and the decoder (tuned with it) learns to
 * caption the digit — "a handwritten seven" — from `[image tokens] <|endoftext|>`. Trains on the
 * ViT run's training digits through the app's loop, measures greedy caption accuracy on the
 * held-out ones, and saves a checkpoint that `generate --image` reads.
 */
export async function vitCaption(o: CaptionTrainOptions): Promise<CaptionTrainResult> {
  const sink = o.sink ?? stderrSink;
  const log = (line: string) => sink.write(`${line}\n`);
  const device = o.device ?? T.getDefaultDevice();
  checkRunFolder(o.out, { force: o.force });
  const { vit, ckpt: vitCkpt } = readVit(o.vit, device);
  const { model: lm, tokenizer } = loadCheckpoint(o.lm, device);
  lm.train();
  const captioner = new Captioner(vit, lm);
  const recipe = {
    steps: o.steps ?? 300,
    batchSize: o.batchSize ?? 32,
    lr: o.lr ?? 2e-3,
    seed: o.seed ?? 1,
  };
  const digits = readMnist();
  const { train: nTrain, test: nTest, seed: splitSeed } = vitCkpt.state.split;
  const split = splitDigits(digits.count, { train: nTrain, test: nTest }, splitSeed);
  const patches = vit.config.patches;
  const longest = Math.max(...DIGIT_WORDS.map((_, d) => tokenizer.encode(captionOf(d)).length));
  if (patches + longest + 2 > lm.maxSequenceLength)
    throw new Error(
      `vit caption: ${patches} image tokens + the longest caption (${longest} tokens and two <|endoftext|>) exceed the decoder's ${lm.maxSequenceLength} positions (${o.lm}); use a ViT with larger patches or a decoder with a longer context`,
    );
  const schedule: Schedule = warmupCosine({
    lr: recipe.lr,
    warmup: Math.max(1, Math.round(recipe.steps / 20)),
    total: recipe.steps,
    minLr: recipe.lr / 10,
  });
  const optimizer = new AdamW(captioner.parameters(), { lr: schedule, weightDecay: 0.01 });
  log(
    `captioner: ViT of ${o.vit} (frozen, ${patches} image tokens), projector ${captioner.projector.numParameters()} parameters, decoder of ${o.lm} (${lm.numParameters()} parameters); ${recipe.steps} steps of ${recipe.batchSize}`,
  );
  const evalDigits = split.test.subarray(0, o.evalDigits ?? 200);
  const history: History = { trainLoss: [], val: [] };
  // Every input has passed its checks: claim the folder (its lock; a --force run's old
  // checkpoint stays until the first new one is saved).
  const claim = claimRunFolder(o.out, { force: o.force });
  const save = async (step: number) => {
    const weights = await lm.save();
    const projector = await captioner.projector.save();
    const bad = firstNonFinite(weights) ?? firstNonFinite(projector);
    if (bad)
      throw new Error(`vit caption: refusing to save weights that are not finite (tensor ${bad})`);
    writeCheckpoint<Omit<CaptionState, 'format' | 'version' | 'files'>>(
      o.out,
      {
        [FILES.model]: weights,
        [FILES.tokenizer]: toHuggingFaceJson(tokenizer),
        [CAPTION_FILES.projector]: projector,
        [CAPTION_FILES.vit]: await vit.save(),
      },
      {
        stage: 'caption',
        step,
        totalSteps: recipe.steps,
        vit: vitCkpt.state.model,
        model: lm.config,
        projector: { visionDim: vit.config.dModel, textDim: lm.config.dModel },
        from: { vit: o.vit, lm: o.lm },
        recipe,
        history,
      },
    );
    claim.saved();
  };
  const r = await runTrainingLoop({
    start: 0,
    total: recipe.steps,
    data: (step) => {
      const rng = new T.Rng(recipe.seed * 1_000_003 + step);
      const picks = Array.from(
        { length: recipe.batchSize },
        () => split.train[Math.floor(rng.next() * split.train.length)]!,
      );
      return captionBatch(digits, picks, tokenizer, patches, device, {
        shift: 2,
        seed: recipe.seed + step,
      });
    },
    step: async (batch, step) => {
      T.manualSeed(recipe.seed + step);
      const loss = T.tidy(() => {
        optimizer.zeroGrad();
        const l = captionLoss(captioner, batch);
        l.backward();
        clipGradNorm(captioner.parameters(), 1.0).dispose();
        optimizer.step();
        return l;
      });
      const value = await loss.item();
      for (const t of [batch.x, batch.ids, batch.targets, loss]) t.dispose();
      return value;
    },
    evaluate: {
      every: o.evalEvery ?? 100,
      run: async () => {
        lm.eval();
        const batch = captionBatch(digits, evalDigits.subarray(0, 100), tokenizer, patches, device);
        const loss = await T.noGrad(() => T.tidy(() => captionLoss(captioner, batch))).item();
        for (const t of [batch.x, batch.ids, batch.targets]) t.dispose();
        const { accuracy } = await captionAccuracy(captioner, tokenizer, digits, evalDigits);
        lm.train();
        return { loss, accuracy };
      },
    },
    checkpoint: { every: recipe.steps, save },
    history,
    progress: new Progress('caption', recipe.steps, sink),
    stop: o.stop,
  }).finally(() => claim.release());
  lm.eval();
  // Stopped by a signal, the run ends soon: it captions only the evaluation's digits.
  const signalled = r.stopReason === 'SIGINT' || r.stopReason === 'SIGTERM';
  const final = signalled ? evalDigits : split.test.subarray(0, o.finalDigits ?? split.test.length);
  log(`captioning ${final.length} held-out digits…`);
  const { accuracy, captions } = await captionAccuracy(captioner, tokenizer, digits, final);
  let vitRight = 0;
  for (let start = 0; start < final.length; start += 500) {
    const { x, y } = digitBatch(digits, final.subarray(start, start + 500), device);
    const hits = T.noGrad(() =>
      T.tidy(() => T.sum(T.eq(T.cast(T.argmax(vit.forward(x), -1), 'i32'), y))),
    );
    vitRight += await hits.item();
    for (const t of [x, y, hits]) t.dispose();
  }
  const result: CaptionTrainResult = {
    steps: r.steps,
    history,
    accuracy,
    digits: final.length,
    vitAccuracy: vitRight / final.length,
    samples: Array.from(final.subarray(0, 10), (i, k) => ({
      label: digits.labels[i]!,
      caption: captions[k]!,
    })),
    stopReason: r.stopReason,
  };
  writeReport(o.out, {
    title: 'reference-llm vit caption: MNIST digits',
    facts: [
      [
        'image encoder',
        `the ViT of ${o.vit}, frozen: ${patches} patch features of ${vit.config.dModel}`,
      ],
      [
        'projector',
        `2-layer GELU MLP ${vit.config.dModel} → ${lm.config.dModel} → ${lm.config.dModel}, trained`,
      ],
      ['decoder', `the language model of ${o.lm}, ${lm.numParameters()} parameters, tuned`],
      [
        'steps',
        `${r.steps} of ${recipe.steps}, batch ${recipe.batchSize}${r.stopReason ? ` (stopped: ${r.stopReason})` : ''}`,
      ],
      [
        'caption accuracy',
        `${(100 * accuracy).toFixed(2)}% exact on ${final.length} held-out digits (greedy)`,
      ],
      ['ViT accuracy, same digits', `${(100 * result.vitAccuracy).toFixed(2)}%`],
      ['samples', result.samples.map((s) => `${s.label}: "${s.caption}"`).join('; ')],
    ],
    summary: { ...result, history: undefined, from: { vit: o.vit, lm: o.lm }, recipe },
    history,
    schedules: { adamw: schedule },
  });
  captioner.dispose();
  vit.dispose();
  return result;
}

/** The captioner of a `vit caption` checkpoint and its tokenizer (evaluation mode). */
export function loadCaptioner(
  dir: string,
  device?: T.Device,
): { captioner: Captioner; tokenizer: Tokenizer } {
  const ckpt = readCheckpoint<CaptionState>(dir);
  const s = ckpt.state;
  if (s.stage !== 'caption')
    throw fileError(
      ckpt.stateFile,
      `field "stage" is ${JSON.stringify(s.stage)}: not a checkpoint of vit caption (generate --image reads those)`,
    );
  const load = (module: { load(bytes: Uint8Array): unknown }, name: string) => {
    try {
      module.load(new Uint8Array(ckpt.read(name)));
    } catch (e) {
      const message = (e as Error).message;
      throw message.includes(name) ? e : fileError(join(ckpt.folder, name), message);
    }
  };
  const vit = new ViT(s.vit, device);
  load(vit, CAPTION_FILES.vit);
  const lm = new DecoderLM(s.model, device);
  load(lm, FILES.model);
  const projector = new VisionProjector({ ...s.projector, device });
  load(projector, CAPTION_FILES.projector);
  const captioner = new Captioner(vit, lm, projector);
  vit.eval();
  captioner.eval();
  return { captioner, tokenizer: readTokenizer(ckpt, lm.vocabSize) };
}

/**
 * `generate --image FILE`: the caption of a digit image (PNG) by a `vit caption` checkpoint,
 * streamed through `onText`.
 */
export async function captionFile(
  dir: string,
  file: string,
  options: GenerateStreamOptions & { onText?: (piece: string) => void; device?: T.Device },
): Promise<string> {
  const { device, ...rest } = options;
  const { captioner, tokenizer } = loadCaptioner(dir, device);
  const [rows, cols] = captioner.vit.config.imageSize;
  try {
    return await captionDigit(captioner, tokenizer, readPngDigit(file, rows, cols), rest);
  } finally {
    captioner.vit.dispose();
    captioner.dispose();
  }
}
