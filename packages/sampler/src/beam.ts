import { checkOptions } from '@tessera/tensor-webgpu';
import { checkPrompt } from './batch.js';
import type { CausalLM } from './model.js';
import { DecodeRows } from './rows.js';

export interface BeamOptions {
  numBeams: number;
  maxNewTokens: number;
  /** Score = sum of log-probs / length^lengthPenalty (Hugging Face's). Default 1. */
  lengthPenalty?: number;
  /** Ends a hypothesis (it is kept, with its score). */
  eosTokenId?: number;
  /** Stop once `numBeams` hypotheses are finished (Hugging Face's early_stopping=True). Default true. */
  earlyStopping?: boolean;
  /** Use the model's KV cache when it has one (default true). */
  useCache?: boolean;
}

export interface BeamHypothesis {
  /** Generated ids (the prompt excluded). */
  ids: number[];
  /** Sum of the tokens' log-probabilities. */
  logprob: number;
  /** logprob / length^lengthPenalty. */
  score: number;
}

/** log-softmax of one row of logits, in float64. */
function logSoftmaxRow(logits: Float32Array): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const logZ = max + Math.log(sum);
  return Float64Array.from(logits, (v) => v - logZ);
}

/**
 * Beam search: keeps the `numBeams` best partial sequences by total log-probability, expands
 * each with its 2·numBeams best next tokens, and retires sequences that emit `eosTokenId`.
 * The beams are rows of one `DecodeRows`: each step feeds every beam's last token through the
 * KV cache together, and the cache rows are reordered as beams continue from one another.
 * Returns finished (or, at the length limit, live) hypotheses, best score first.
 */
export async function beamSearch(
  model: CausalLM,
  prompt: readonly number[],
  o: BeamOptions,
): Promise<BeamHypothesis[]> {
  checkOptions('beamSearch', o, [
    'numBeams',
    'maxNewTokens',
    'lengthPenalty',
    'eosTokenId',
    'earlyStopping',
    'useCache',
  ]);
  if (!Number.isInteger(o.numBeams) || o.numBeams < 1)
    throw new RangeError(`beamSearch: numBeams must be an integer >= 1, got ${o.numBeams}`);
  checkPrompt('beamSearch', prompt, model.vocabSize);
  const alpha = o.lengthPenalty ?? 1;
  const score = (logprob: number, len: number) => logprob / Math.max(len, 1) ** alpha;
  const rows = new DecodeRows(model, {
    rows: o.numBeams,
    maxLength: prompt.length + o.maxNewTokens,
    useCache: o.useCache,
  });
  // Beam i lives in row i; the prompt starts in row 0 alone.
  let beams: { ids: number[]; logprob: number }[] = [{ ids: [], logprob: 0 }];
  const finished: BeamHypothesis[] = [];
  try {
    for (let step = 0; step < o.maxNewTokens && beams.length > 0; step++) {
      const live = beams.map((_, i) => i);
      const feed = beams.map((b) => (step === 0 ? [...prompt] : [b.ids.at(-1)!]));
      const logits = await rows.extend(live, feed);
      const candidates: { ids: number[]; logprob: number; parent: number }[] = [];
      logits.forEach(([row], bi) => {
        const logp = logSoftmaxRow(row!);
        const order = Array.from(logp.keys())
          .sort((a, b) => logp[b]! - logp[a]! || a - b)
          .slice(0, 2 * o.numBeams);
        for (const t of order)
          if (Number.isFinite(logp[t]!))
            candidates.push({
              ids: [...beams[bi]!.ids, t],
              logprob: beams[bi]!.logprob + logp[t]!,
              parent: bi,
            });
      });
      candidates.sort((a, b) => b.logprob - a.logprob);
      const next: typeof candidates = [];
      for (const c of candidates) {
        if (o.eosTokenId !== undefined && c.ids.at(-1) === o.eosTokenId)
          finished.push({ ids: c.ids, logprob: c.logprob, score: score(c.logprob, c.ids.length) });
        else next.push(c);
        if (next.length === o.numBeams) break;
      }
      // Row i continues from its beam's parent row (unused rows copy row 0).
      rows.reorder(Array.from({ length: o.numBeams }, (_, i) => next[i]?.parent ?? 0));
      beams = next.map(({ ids, logprob }) => ({ ids, logprob }));
      if ((o.earlyStopping ?? true) && finished.length >= o.numBeams) break;
    }
  } finally {
    rows.dispose();
  }
  const all = [...finished, ...beams.map((b) => ({ ...b, score: score(b.logprob, b.ids.length) }))];
  return all.sort((a, b) => b.score - a.score);
}
