import {
  abs,
  add,
  argmax,
  checkOptions,
  div,
  gt,
  log,
  lt,
  max,
  min,
  mul,
  neg,
  noGrad,
  rand,
  scatterAdd,
  slice,
  softmax,
  sub,
  sum,
  type Tensor,
  tensor,
  tidy,
  topk,
  where,
} from '@tessera/tensor-webgpu';
import { SAMPLING_OPTION_KEYS, type SamplingOptions, validateOptions } from './processors.js';

const NEG = -1e30;

/** Per-row counts [B, V] of the ids seen so far (built on the device by scatter-add). */
function seenCounts(rows: readonly (readonly number[])[], vocab: number, like: Tensor): Tensor {
  const width = Math.max(1, ...rows.map((r) => r.length));
  // Pad with an id of weight 0 so every row has the same width.
  const idx = rows.flatMap((r) => [...r, ...new Array<number>(width - r.length).fill(0)]);
  const weight = rows.flatMap((r) => [
    ...r.map(() => 1),
    ...new Array<number>(width - r.length).fill(0),
  ]);
  const index = tensor(Int32Array.from(idx), { shape: [rows.length, width], device: like.device });
  const src = tensor(weight, { shape: [rows.length, width], device: like.device });
  return scatterAdd([rows.length, vocab], 1, index, src);
}

/**
 * Per row, the largest t such that the tokens with score ≥ t hold probability mass ≥ `mass`:
 * bisection over [min score, max score] with 30 halvings, all on the device.
 */
function massThreshold(score: Tensor, p: Tensor, mass: number): Tensor {
  let lo = min(score, 1, { keepDim: true });
  let hi = max(score, 1, { keepDim: true });
  for (let i = 0; i < 30; i++) {
    const mid = mul(add(lo, hi), 0.5);
    const kept = sum(where(lt(score, mid), 0, p), 1, { keepDim: true });
    const enough = lt(mass - 1e-7, kept);
    lo = where(enough, mid, lo);
    hi = where(enough, hi, mid);
  }
  return lo;
}

/**
 * The processor chain and the sampling step on the device, for logits [batch, vocab]: nothing of
 * the vocabulary is read back, only the chosen ids. Same semantics as the CPU chain (`processorChain`);
 * top-p and typical-p find their thresholds by bisection (30 halvings) instead of sorting. Sampling
 * is Gumbel-max: argmax(logits + Gumbel noise) is an exact draw from softmax(logits). Returns i32 ids [batch].
 */
export function sampleOnDevice(
  logits: Tensor,
  seen: readonly (readonly number[])[],
  o: SamplingOptions & {
    /** Seed of the Gumbel noise. Default 0. */
    seed?: number;
    /** Generation step, for `forcedToken`. */
    step?: number;
  } = {},
): Tensor {
  checkOptions('sampleOnDevice', o, [...Object.keys(SAMPLING_OPTION_KEYS), 'seed', 'step']);
  validateOptions(o);
  if (logits.rank !== 2)
    throw new RangeError(
      `sampleOnDevice: logits must be [batch, vocab], got [${logits.shape.join(', ')}]`,
    );
  const [batch, vocab] = logits.shape as [number, number];
  if (seen.length !== batch)
    throw new RangeError(`sampleOnDevice: ${seen.length} id histories for a batch of ${batch}`);
  const forced = o.forcedToken?.(o.step ?? 0);
  if (forced !== undefined) {
    if (!(Number.isInteger(forced) && forced >= 0 && forced < vocab))
      throw new RangeError(`sampler: forced token ${forced} is outside the vocabulary (${vocab})`);
    return tensor(
      Int32Array.from({ length: batch }, () => forced),
      { device: logits.device },
    );
  }
  return noGrad(() =>
    tidy(() => {
      let x = logits;
      if (o.logitBias || o.bannedTokens?.length) {
        const bias = new Float32Array(vocab);
        for (const [id, b] of Object.entries(o.logitBias ?? {}))
          bias[Number(id)] = (bias[Number(id)] ?? 0) + b;
        for (const id of o.bannedTokens ?? []) bias[id] = NEG;
        x = add(x, tensor(bias, { device: x.device }));
      }
      const penalise = (o.repetitionPenalty ?? 1) !== 1 || o.presencePenalty || o.frequencyPenalty;
      if (penalise) {
        const counts = seenCounts(seen, vocab, x);
        const present = gt(counts, 0);
        if ((o.repetitionPenalty ?? 1) !== 1) {
          const r = o.repetitionPenalty!;
          x = where(present, where(gt(x, 0), div(x, r), mul(x, r)), x);
        }
        if (o.presencePenalty || o.frequencyPenalty)
          x = sub(
            x,
            add(mul(present, o.presencePenalty ?? 0), mul(counts, o.frequencyPenalty ?? 0)),
          );
      }
      if (o.temperature === 0) return argmax(x, 1);
      if (o.temperature !== undefined && o.temperature !== 1) x = div(x, o.temperature);
      if (o.topK !== undefined && o.topK < vocab) {
        const kth = slice(topk(x, o.topK).values, 1, o.topK - 1, o.topK);
        x = where(lt(x, kth), NEG, x);
      }
      if (o.topP !== undefined && o.topP < 1) {
        const p = softmax(x, -1);
        x = where(lt(p, massThreshold(p, p, o.topP)), NEG, x);
      }
      if (o.minP !== undefined && o.minP > 0)
        x = where(lt(x, add(max(x, 1, { keepDim: true }), Math.log(o.minP))), NEG, x);
      if (o.typicalP !== undefined && o.typicalP < 1) {
        // Keep the tokens whose surprisal is nearest the entropy H, up to mass typicalP.
        const p = softmax(x, -1);
        const logp = log(add(p, 1e-30));
        const entropy = neg(sum(mul(p, logp), 1, { keepDim: true }));
        const nearness = neg(abs(add(logp, entropy))); // −|−ln p − H|
        x = where(lt(nearness, massThreshold(nearness, p, o.typicalP)), NEG, x);
      }
      const u = rand([batch, vocab], { device: x.device, seed: o.seed ?? 0 });
      const gumbel = neg(log(neg(log(add(u, 1e-20)))));
      return argmax(add(x, gumbel), 1);
    }),
  );
}
