import type { Module } from '@tessera/nn';
import { type BaseOptions, clipGradNorm, type Optimizer } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { type DigitBatch, type Digits, digitBatch } from './mnist.js';

/** What the image stages train: a module from images f32 [B, C, H, W] to logits [B, classes]. */
export type ImageClassifier = Module & { forward(images: T.Tensor): T.Tensor };

/**
 * One classification step on a batch, the step function of `vit train` (for the ViT and the
 * MLP baseline alike): cross-entropy, backward, the global gradient norm clipped to 1, the
 * optimizer's update. Frees the batch; returns the loss read back (nats).
 */
export async function classifierStep(
  model: ImageClassifier,
  optimizer: Optimizer<BaseOptions>,
  batch: DigitBatch,
): Promise<number> {
  const loss = T.tidy(() => {
    optimizer.zeroGrad();
    const l = T.crossEntropy(model.forward(batch.x), batch.y);
    l.backward();
    clipGradNorm(model.parameters(), 1.0).dispose();
    optimizer.step();
    return l;
  });
  const value = await loss.item();
  for (const t of [batch.x, batch.y, loss]) t.dispose();
  return value;
}

/** A classifier's figures on held-out digits. */
export interface ClassifierEvaluation {
  /** Mean cross-entropy (nats). */
  loss: number;
  /** Share of digits whose most likely class is the label. */
  accuracy: number;
  /** The most likely class of each digit, in the order of `indices`. */
  predictions: Int32Array;
  /** Wall-clock seconds of the forward passes (with the read-back). */
  seconds: number;
}

/**
 * Scores `digits[indices]` in evaluation mode (no dropout, no gradients), `batchSize` at a time,
 * and restores the model's mode afterwards.
 */
export async function evaluateClassifier(
  model: ImageClassifier,
  digits: Digits,
  indices: Int32Array,
  device: T.Device,
  batchSize = 500,
): Promise<ClassifierEvaluation> {
  const wasTraining = model.training;
  model.eval();
  const predictions = new Int32Array(indices.length);
  let lossSum = 0;
  let correct = 0;
  const started = performance.now();
  for (let start = 0; start < indices.length; start += batchSize) {
    const batch = digitBatch(digits, indices.subarray(start, start + batchSize), device);
    const [loss, predicted] = T.noGrad(() =>
      T.tidy(() => {
        const logits = model.forward(batch.x);
        return [T.mul(T.crossEntropy(logits, batch.y), batch.y.size), T.argmax(logits, -1)];
      }),
    );
    lossSum += await loss!.item();
    const ids = await predicted!.data();
    const labels = await batch.y.data();
    predictions.set(ids, start);
    for (let i = 0; i < ids.length; i++) if (ids[i] === labels[i]) correct++;
    for (const t of [loss!, predicted!, batch.x, batch.y]) t.dispose();
  }
  model.train(wasTraining);
  return {
    loss: lossSum / indices.length,
    accuracy: correct / indices.length,
    predictions,
    seconds: (performance.now() - started) / 1000,
  };
}

/** counts[true class][predicted class] over the digits, a classes × classes table. */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  classes = 10,
): number[][] {
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]![predictions[i]!]!++;
  return counts;
}
