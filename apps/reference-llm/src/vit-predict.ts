import * as T from '@tessera/tensor-webgpu';
import type { ViT } from '@tessera/vit';
import type { DigitImage } from './digit-image.js';
import { normalizePixels } from './mnist.js';

/**
 * The ViT's class probabilities for one digit (softmax of its logits, evaluation mode). Throws
 * when the digit is not of the size the model reads.
 */
export async function predictDigit(vit: ViT, digit: DigitImage): Promise<Float32Array> {
  const [rows, cols] = vit.config.imageSize;
  if (digit.rows !== rows || digit.cols !== cols)
    throw new RangeError(
      `${digit.source}: ${digit.cols}×${digit.rows} pixels, the model reads ${cols}×${rows}`,
    );
  const device = vit.embeddings.cls_token.device;
  const x = T.tensor(normalizePixels(digit.pixels), { shape: [1, 1, rows, cols], device });
  const probabilities = T.noGrad(() => T.tidy(() => T.softmax(vit.forward(x), -1)));
  const out = (await probabilities.data()) as Float32Array;
  x.dispose();
  probabilities.dispose();
  return out;
}

/** Lines for the terminal: the predicted class, then every class's probability with a bar. */
export function formatPrediction(probabilities: ArrayLike<number>): string[] {
  const p = Array.from(probabilities);
  const best = p.indexOf(Math.max(...p));
  return [
    `prediction: ${best} (${(100 * p[best]!).toFixed(1)}%)`,
    ...p.map(
      (v, c) => `  ${c}  ${(100 * v).toFixed(1).padStart(5)}%  ${'█'.repeat(Math.round(30 * v))}`,
    ),
  ];
}
