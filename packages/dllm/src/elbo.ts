import { checkOptions, noGrad, Rng, type Tensor, tensor, tidy } from '@tessera/tensor-webgpu';
import type { DiffusionLM } from './diffusion-lm.js';
import { maskedDiffusionNelbo } from './loss.js';

/** Options of `diffusionNll`. */
export interface DiffusionNllOptions {
  /** Leading positions of every row that are context: never masked, not scored. Default 0. */
  from?: number;
  /** Monte Carlo samples per row (each one forward pass of the batch). Default 4. */
  samples?: number;
  /** Seed of the mask draws. Default 0. */
  seed?: number;
}

/**
 * Each row's negative log-likelihood bound in nats: a Monte Carlo estimate of the masked
 * diffusion NELBO of its tokens from `from` on, given the tokens before (unconditional with
 * `from` 0). Its expectation is an upper bound on −log p, so bits per byte computed from it
 * bound the model's true figure from above.
 *
 * The estimator is LLaDA's lower-variance form (Nie et al. 2025, §2.4, `get_log_likelihood`):
 * for n scored positions, draw k uniformly from 1..n, mask exactly k of them chosen uniformly,
 * and weight the masked cross-entropy n/k — the same expectation as t ~ U(0, 1] with
 * independent masks (the binomial mask count integrates to 1/k), without the rows that mask
 * nothing or almost nothing. Over a row's samples the k are stratified (k, k + n/S, … modulo n),
 * again as LLaDA's evaluation does.
 *
 * @param rows - token rows of one length T, ids in the vocabulary (the mask id excluded)
 * @returns per row, the mean over its samples, in nats
 * @throws RangeError - unknown options, rows of different lengths, `from` not in [0, T), a
 *   bad sample count, or an id outside the vocabulary
 */
export async function diffusionNll(
  model: DiffusionLM,
  rows: readonly ArrayLike<number>[],
  options: DiffusionNllOptions = {},
): Promise<Float64Array> {
  checkOptions('diffusionNll', options, ['from', 'samples', 'seed']);
  const { from = 0, samples = 4, seed = 0 } = options;
  const batch = rows.length;
  const length = rows[0]?.length ?? 0;
  if (batch === 0) throw new RangeError('diffusionNll: no rows');
  for (const row of rows) {
    if (row.length !== length)
      throw new RangeError(
        `diffusionNll: every row must have the same length (${length}), got one of ${row.length}`,
      );
    for (let i = 0; i < row.length; i++) {
      const id = row[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= model.vocabSize || id === model.maskId)
        throw new RangeError(
          `diffusionNll: id ${id} is not a token of the vocabulary (0..${model.vocabSize - 1}, not the mask id ${model.maskId})`,
        );
    }
  }
  if (!Number.isInteger(from) || from < 0 || from >= length)
    throw new RangeError(`diffusionNll: from must be an integer in [0, ${length}), got ${from}`);
  if (!Number.isInteger(samples) || samples < 1)
    throw new RangeError(`diffusionNll: samples must be an integer >= 1, got ${samples}`);
  const n = length - from;
  const rng = new Rng(seed);
  const first = rows.map(() => 1 + Math.floor(rng.next() * n));
  const clean = Int32Array.from(rows.flatMap((r) => Array.from(r)));
  const total = new Float64Array(batch);
  for (let s = 0; s < samples; s++) {
    const input = Int32Array.from(clean);
    const masked = new Float32Array(batch * length);
    const t = new Float32Array(batch);
    rows.forEach((_, b) => {
      const k = ((first[b]! - 1 + Math.floor((s * n) / samples)) % n) + 1;
      t[b] = k / n;
      // k distinct positions of from..length−1: the first k of a partial Fisher–Yates shuffle.
      const positions = Array.from({ length: n }, (_, i) => from + i);
      for (let i = 0; i < k; i++) {
        const j = i + Math.floor(rng.next() * (n - i));
        [positions[i], positions[j]] = [positions[j]!, positions[i]!];
        const at = b * length + positions[i]!;
        masked[at] = 1;
        input[at] = model.maskId;
      }
    });
    const nelbo: Tensor = noGrad(() =>
      tidy(() => {
        const device = model.device;
        const shape = [batch, length];
        return maskedDiffusionNelbo(
          model.forward(tensor(input, { shape, device })),
          tensor(clean, { shape, device }),
          tensor(masked, { shape, device }),
          tensor(t, { device }),
        );
      }),
    );
    const values = await nelbo.data();
    nelbo.dispose();
    for (let b = 0; b < batch; b++) total[b]! += values[b]!;
  }
  return total.map((v) => v / samples);
}
