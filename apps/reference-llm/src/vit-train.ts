import { AdamW, type Schedule, warmupCosine } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { ViT, type ViTConfig } from '@tessera/vit';
import {
  type ClassifierEvaluation,
  classifierStep,
  confusionMatrix,
  evaluateClassifier,
  type ImageClassifier,
} from './classifier-step.js';
import { firstNonFinite } from './finite.js';
import { type History, runTrainingLoop, type StopReason, type StopSignal } from './loop.js';
import { MlpClassifier } from './mlp-classifier.js';
import { type Digits, digitBatch, readMnist, splitDigits } from './mnist.js';
import { Progress, type ProgressSink, stderrSink } from './progress.js';
import { writeReport } from './report.js';
import {
  type Checkpoint,
  checkRunFolder,
  claimRunFolder,
  FILES,
  fileError,
  readCheckpoint,
  writeCheckpoint,
} from './run-folder.js';
import { loadVitWeights, type VitRecipe, type VitState } from './vit-checkpoint.js';
import { vitPictures } from './vit-pictures.js';

/** The held-out split of the bundled MNIST digits: fixed, so every run tests on the same 2,000. */
export const MNIST_SPLIT = { train: 8000, test: 2000, seed: 0 } as const;

/**
 * The ViT `vit train` builds for 28×28 digits: 7×7 patches (16 tokens and the class token),
 * width 64, 4 layers of 4 heads, MLP width 128, learned positions, the class token read. Weights
 * start at std 0.07 (about PyTorch's default for a Linear layer of width 64, 1/√(3·64)) rather
 * than timm's 0.02, which learned twice as slowly on this budget (held-out accuracy 30% against
 * 61% after 100 steps).
 */
export const MNIST_VIT: ViTConfig = {
  imageSize: 28,
  patchSize: 7,
  channels: 1,
  classes: 10,
  dModel: 64,
  layers: 4,
  heads: 4,
  ffnHidden: 128,
  positions: 'learned',
  pool: 'cls',
  initStd: 0.07,
  seed: 1,
};

/** The defaults: about 15 passes over the 8,000 training digits. */
export const VIT_RECIPE: VitRecipe = { steps: 940, batchSize: 128, lr: 2e-3, shift: 2, seed: 1 };

export interface VitTrainOptions extends Partial<VitRecipe> {
  /** The run folder. */
  out: string;
  /** Changes to `MNIST_VIT` (positions, pooling, patch size, sizes, dropout, stochastic depth). */
  model?: Partial<ViTConfig>;
  resume?: boolean;
  force?: boolean;
  /** Held-out evaluation every N steps (default 100). */
  evalEvery?: number;
  /** Checkpoint every N steps (default 100). */
  saveEvery?: number;
  /** Train the MLP baseline for the same steps and batches after the ViT (default true). */
  baseline?: boolean;
  /** Wall-clock budget of the ViT's training in seconds: past it the run stops, evaluates, saves. */
  maxSeconds?: number;
  device?: T.Device;
  sink?: ProgressSink;
  stop?: StopSignal;
}

/** One classifier's results. */
export interface ClassifierResult {
  parameters: number;
  steps: number;
  history: History;
  test: Omit<ClassifierEvaluation, 'predictions'>;
  /** Training images per second over this run's steps. */
  trainImagesPerSecond: number;
  /** Held-out images per second in evaluation (batches of 500, with the read-back). */
  inferenceImagesPerSecond: number;
  trainSeconds: number;
}

export interface VitTrainResult {
  vit: ClassifierResult;
  mlp?: ClassifierResult;
  totalSteps: number;
  stopReason?: StopReason;
  /** counts[true][predicted] of the ViT on the held-out digits. */
  confusion: number[][];
}

/** AdamW with the recipe's schedule, for either model. */
function optimizerFor(
  model: ImageClassifier,
  recipe: VitRecipe,
): { optimizer: AdamW; schedule: Schedule } {
  const schedule = warmupCosine({
    lr: recipe.lr,
    warmup: Math.max(1, Math.round(recipe.steps / 20)),
    total: recipe.steps,
    minLr: recipe.lr / 10,
  });
  const optimizer = new AdamW(model.parameters(), {
    lr: schedule,
    betas: [0.9, 0.999],
    weightDecay: 0.05,
  });
  return { optimizer, schedule };
}

/** Checks a checkpoint against the flags that resume it; returns its recipe. */
function resumeRecipe(ckpt: Checkpoint<VitState>, o: VitTrainOptions): VitRecipe {
  const s = ckpt.state;
  const field = (name: string, message: string) =>
    fileError(ckpt.stateFile, `field "${name}" ${message}`);
  if (s.stage !== 'vit') throw field('stage', `is ${JSON.stringify(s.stage)}, expected "vit"`);
  if (s.model === null || typeof s.model !== 'object') throw field('model', 'is missing');
  if (s.optimizer?.step !== s.step)
    throw field('optimizer.step', `is ${s.optimizer?.step}, but the run is at step ${s.step}`);
  if (!Array.isArray(s.history?.trainLoss) || s.history.trainLoss.length !== s.step)
    throw field('history', `must hold one training loss per step done (${s.step})`);
  for (const key of ['steps', 'batchSize', 'lr', 'shift', 'seed'] as const) {
    if (o[key] !== undefined && o[key] !== s.recipe?.[key])
      throw new Error(
        `${key} ${o[key]} conflicts with the checkpoint, which was started with ${s.recipe?.[key]} (${ckpt.stateFile} field "recipe.${key}"); leave it out to resume, or pass --force to start over`,
      );
  }
  if (o.model && Object.keys(o.model).length > 0)
    throw new Error(
      `the model is fixed by the checkpoint (${ckpt.stateFile} field "model"); leave the model flags out to resume`,
    );
  return s.recipe;
}

/** Trains `model` through the app's loop on the recipe's batches, evaluating on the held-out digits. */
async function trainClassifier(
  name: string,
  model: ImageClassifier,
  o: {
    recipe: VitRecipe;
    digits: Digits;
    split: { train: Int32Array; test: Int32Array };
    device: T.Device;
    sink: ProgressSink;
    evalEvery: number;
    start?: number;
    history?: History;
    optimizer?: AdamW;
    save?: (step: number) => Promise<void>;
    saveEvery?: number;
    stop?: StopSignal;
    maxSeconds?: number;
    total?: number;
  },
) {
  const { recipe, digits, split, device } = o;
  const optimizer = o.optimizer ?? optimizerFor(model, recipe).optimizer;
  const history = o.history ?? { trainLoss: [], val: [] };
  const total = o.total ?? recipe.steps;
  let last: ClassifierEvaluation | undefined;
  const evaluate = async () => {
    last = await evaluateClassifier(model, digits, split.test, device);
    return { loss: last.loss, accuracy: last.accuracy };
  };
  const tokens = model instanceof ViT ? 1 + model.config.patches : 1;
  const r = await runTrainingLoop({
    start: o.start ?? 0,
    total,
    data: (step) => {
      const rng = new T.Rng(recipe.seed * 1_000_003 + step);
      const picks = Int32Array.from(
        { length: recipe.batchSize },
        () => split.train[Math.floor(rng.next() * split.train.length)]!,
      );
      return digitBatch(digits, picks, device, { shift: recipe.shift, seed: recipe.seed + step });
    },
    step: (batch, step) => {
      T.manualSeed(recipe.seed + step); // dropout and stochastic depth, reproducible on resume
      return classifierStep(model, optimizer, batch);
    },
    evaluate: { every: o.evalEvery, run: evaluate },
    checkpoint: o.save ? { every: o.saveEvery ?? o.evalEvery, save: o.save } : undefined,
    history,
    progress: new Progress(name, total, o.sink, o.start ?? 0),
    stop: o.stop,
    maxSeconds: o.maxSeconds,
    tokensPerStep: recipe.batchSize * tokens,
  });
  last ??= await evaluateClassifier(model, digits, split.test, device);
  const { predictions, ...test } = last;
  const images = (r.steps - (o.start ?? 0)) * recipe.batchSize;
  const result: ClassifierResult = {
    parameters: model.numParameters(),
    steps: r.steps,
    history,
    test,
    trainImagesPerSecond: images / Math.max(r.seconds, 1e-9),
    inferenceImagesPerSecond: split.test.length / Math.max(test.seconds, 1e-9),
    trainSeconds: r.seconds,
  };
  return { result, predictions, stopReason: r.stopReason, optimizer };
}

/**
 * `vit train`: a ViT on 8,000 of the bundled MNIST digits (random shifts of up to `shift`
 * pixels), tested on the 2,000 held out, through the app's training loop (progress, evaluation,
 * atomic checkpoints, Ctrl-C/SIGTERM, `--resume`); then, unless `baseline` is false, the MLP
 * baseline with the same steps, batches, optimizer and schedule. Writes the report (`report.md`,
 * `report.json`, the loss chart) and the pictures (accuracy curves, the confusion matrix,
 * attention-rollout maps). Throws on a checkpoint in `out` without `resume` or `force`, and on a
 * resumed checkpoint that fails a check, naming the file and field.
 */
export async function vitTrain(o: VitTrainOptions): Promise<VitTrainResult> {
  const sink = o.sink ?? stderrSink;
  const log = (line: string) => sink.write(`${line}\n`);
  const device = o.device ?? T.getDefaultDevice();
  checkRunFolder(o.out, o);
  const ckpt = o.resume ? readCheckpoint<VitState>(o.out) : undefined;
  const recipe: VitRecipe = ckpt
    ? resumeRecipe(ckpt, o)
    : {
        steps: o.steps ?? VIT_RECIPE.steps,
        batchSize: o.batchSize ?? VIT_RECIPE.batchSize,
        lr: o.lr ?? VIT_RECIPE.lr,
        shift: o.shift ?? VIT_RECIPE.shift,
        seed: o.seed ?? VIT_RECIPE.seed,
      };
  const config: ViTConfig = ckpt?.state.model ?? { ...MNIST_VIT, ...o.model };
  const digits = readMnist();
  const split = splitDigits(digits.count, MNIST_SPLIT, MNIST_SPLIT.seed);
  const evalEvery = o.evalEvery ?? 100;

  const vit = new ViT(config, device);
  const { optimizer, schedule } = optimizerFor(vit, recipe);
  const history: History = ckpt?.state.history ?? { trainLoss: [], val: [] };
  const start = ckpt?.state.step ?? 0;
  if (ckpt) {
    loadVitWeights(ckpt, vit);
    await optimizer.loadStateDict({
      ...ckpt.state.optimizer,
      tensors: T.loadSafetensors(new Uint8Array(ckpt.read(FILES.optimizer)), { device }),
    });
    log(`resumed ${o.out} at step ${start}/${recipe.steps}`);
  } else {
    log(
      `ViT: ${vit.numParameters()} parameters, ${vit.config.patches} patches of ${vit.config.patchSize}×${vit.config.patchSize} + the class token, ${vit.config.positions} positions; ` +
        `${split.train.length} training and ${split.test.length} held-out MNIST digits; ${recipe.steps} steps of ${recipe.batchSize}; device ${device.info.adapter}`,
    );
  }
  // Every input has passed its checks: claim the folder (its lock; a --force run's old
  // checkpoint stays until the first new one is saved).
  const claim = claimRunFolder(o.out, o, ckpt);
  const save = async (step: number) => {
    const weights = await vit.save();
    const bad = firstNonFinite(weights);
    if (bad)
      throw new Error(
        `vit train: refusing to save weights that are not finite at step ${step} (tensor ${bad})`,
      );
    const { tensors, ...state } = optimizer.stateDict();
    writeCheckpoint<Omit<VitState, 'format' | 'version' | 'files'>>(
      o.out,
      { [FILES.model]: weights, [FILES.optimizer]: await T.saveSafetensors(tensors) },
      {
        stage: 'vit',
        step,
        totalSteps: recipe.steps,
        model: config,
        recipe,
        split: MNIST_SPLIT,
        optimizer: state,
        history,
      },
    );
    claim.saved();
  };
  const common = { recipe, digits, split, device, sink, evalEvery };
  const trained = await trainClassifier('vit', vit, {
    ...common,
    start,
    history,
    optimizer,
    save,
    saveEvery: o.saveEvery ?? 100,
    stop: o.stop,
    maxSeconds: o.maxSeconds,
  }).finally(() => claim.release());
  const signalled = trained.stopReason === 'SIGINT' || trained.stopReason === 'SIGTERM';
  let mlp: ClassifierResult | undefined;
  if ((o.baseline ?? true) && !signalled) {
    log(`MLP baseline: the same ${trained.result.steps} steps, batches, optimizer and schedule`);
    const model = new MlpClassifier(digits.rows * digits.cols, 256, 10, device, recipe.seed);
    mlp = (await trainClassifier('mlp', model, { ...common, total: trained.result.steps })).result;
    model.dispose();
  }
  const labels = Int32Array.from(split.test, (i) => digits.labels[i]!);
  const result: VitTrainResult = {
    vit: trained.result,
    mlp,
    totalSteps: recipe.steps,
    stopReason: trained.stopReason,
    confusion: confusionMatrix(labels, trained.predictions),
  };
  const figures = await vitPictures({ vit, digits, split, result, device });
  writeReport(o.out, {
    title: 'reference-llm vit train: MNIST',
    facts: [
      [
        'ViT',
        `${vit.numParameters()} parameters, ${config.positions ?? 'learned'} positions, pool ${config.pool ?? 'cls'}`,
      ],
      [
        'data',
        `${split.train.length} training / ${split.test.length} held-out MNIST digits (seed ${MNIST_SPLIT.seed}), shifts of up to ${recipe.shift} px`,
      ],
      [
        'steps',
        `${trained.result.steps} of ${recipe.steps}, batch ${recipe.batchSize}${trained.stopReason ? ` (stopped: ${trained.stopReason})` : ''}`,
      ],
      ['device', device.info.adapter],
      [
        'ViT test accuracy',
        `${(100 * result.vit.test.accuracy).toFixed(2)}% (loss ${result.vit.test.loss.toFixed(4)})`,
      ],
      ...(mlp
        ? ([
            [
              'MLP test accuracy',
              `${(100 * mlp.test.accuracy).toFixed(2)}% (${mlp.parameters} parameters, same steps)`,
            ],
          ] as [string, string][])
        : []),
      [
        'ViT training',
        `${(result.vit.trainSeconds / 60).toFixed(1)} min, ${result.vit.trainImagesPerSecond.toFixed(0)} images/s`,
      ],
      ['ViT inference', `${result.vit.inferenceImagesPerSecond.toFixed(0)} images/s`],
    ],
    summary: {
      device: device.info.adapter,
      model: config,
      recipe,
      split: MNIST_SPLIT,
      stopReason: trained.stopReason ?? null,
      vit: { ...result.vit, history: undefined },
      mlp: mlp ? { ...mlp, history: mlp.history.val } : null,
      confusion: result.confusion,
    },
    history,
    schedules: { adamw: schedule },
    figures,
  });
  vit.dispose();
  return result;
}
