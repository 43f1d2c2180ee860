import { logSoftmax, noGrad, tensor, tidy } from '@tessera/tensor-webgpu';
import { lastLogits } from './generate.js';
import type { CausalLM } from './model.js';

export interface BeamOptions {
  numBeams: number;
  maxNewTokens: number;
  /** Score = sum of log-probs / length^lengthPenalty (Hugging Face's). Default 1. */
  lengthPenalty?: number;
  /** Ends a hypothesis (it is kept, with its score). */
  eosTokenId?: number;
  /** Stop once `numBeams` hypotheses are finished (Hugging Face's early_stopping=True). Default true. */
  earlyStopping?: boolean;
}

export interface BeamHypothesis {
  /** Generated ids (the prompt excluded). */
  ids: number[];
  /** Sum of the tokens' log-probabilities. */
  logprob: number;
  /** logprob / length^lengthPenalty. */
  score: number;
}

/**
 * Beam search: keeps the `numBeams` best partial sequences by total log-probability, expands
 * each with its 2·numBeams best next tokens, and retires sequences that emit `eosTokenId`.
 * Returns finished (or, at the length limit, live) hypotheses, best score first.
 */
export async function beamSearch(
  model: CausalLM,
  prompt: readonly number[],
  o: BeamOptions,
): Promise<BeamHypothesis[]> {
  if (!Number.isInteger(o.numBeams) || o.numBeams < 1)
    throw new RangeError(`beamSearch: numBeams must be an integer >= 1, got ${o.numBeams}`);
  if (prompt.length === 0) throw new RangeError('beamSearch: the prompt is empty');
  const alpha = o.lengthPenalty ?? 1;
  const score = (logprob: number, len: number) => logprob / Math.max(len, 1) ** alpha;
  let beams: { ids: number[]; logprob: number }[] = [{ ids: [], logprob: 0 }];
  const finished: BeamHypothesis[] = [];
  const device = (model as { device?: never }).device;
  for (let step = 0; step < o.maxNewTokens && beams.length > 0; step++) {
    const seqs = beams.map((b) => [...prompt, ...b.ids]);
    const input = tensor(Int32Array.from(seqs.flat()), {
      shape: [seqs.length, seqs[0]!.length],
      device,
    });
    const logp = noGrad(() => tidy(() => logSoftmax(model.forward(input), -1)));
    input.dispose();
    const rows = await lastLogits(logp);
    logp.dispose();
    const candidates: { ids: number[]; logprob: number }[] = [];
    rows.forEach((row, bi) => {
      const order = Array.from(row.keys())
        .sort((a, b) => row[b]! - row[a]! || a - b)
        .slice(0, 2 * o.numBeams);
      for (const t of order)
        if (Number.isFinite(row[t]!))
          candidates.push({ ids: [...beams[bi]!.ids, t], logprob: beams[bi]!.logprob + row[t]! });
    });
    candidates.sort((a, b) => b.logprob - a.logprob);
    beams = [];
    for (const c of candidates) {
      if (o.eosTokenId !== undefined && c.ids.at(-1) === o.eosTokenId)
        finished.push({ ...c, score: score(c.logprob, c.ids.length) });
      else beams.push(c);
      if (beams.length === o.numBeams) break;
    }
    if ((o.earlyStopping ?? true) && finished.length >= o.numBeams) break;
  }
  const all = [...finished, ...beams.map((b) => ({ ...b, score: score(b.logprob, b.ids.length) }))];
  return all.sort((a, b) => b.score - a.score);
}
