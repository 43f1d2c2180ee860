import { checkOptions, Rng } from '@tessera/tensor-webgpu';
import { checkPrompt } from './batch.js';
import type { CausalLM } from './model.js';
import {
  processLogits,
  processorChain,
  SAMPLING_OPTION_KEYS,
  type SamplingOptions,
  samplingPart,
  softmaxRow,
} from './processors.js';
import { argmaxRow, checkFiniteLogits, sampleIndex } from './rng.js';
import { DecodeRows } from './rows.js';

export interface SpeculativeOptions extends SamplingOptions {
  /** Tokens the draft proposes per round. Default 4. */
  k?: number;
  maxNewTokens?: number;
  seed?: number;
  stopTokenIds?: readonly number[];
  /** Use the models' KV caches when they have them (default true). */
  useCache?: boolean;
}

export interface SpeculativeResult {
  ids: number[];
  /** Accepted draft tokens / proposed draft tokens. */
  acceptanceRate: number;
  /** Target forward passes made (each verifies a whole draft round). */
  targetCalls: number;
}

/** Processed next-token distributions from rows of logits, the first at generation step `step`. */
function distributions(
  logits: readonly Float32Array[],
  ids: readonly number[],
  o: SamplingOptions,
  step: number,
): Float64Array[] {
  const chain = processorChain(o);
  // Position i's distribution conditions on the ids before the token it predicts.
  const before = ids.length - logits.length + 1;
  return logits.map((row, i) => {
    checkFiniteLogits(row);
    const processed = processLogits(row, { ids: ids.slice(0, before + i), step: step + i }, chain);
    return o.temperature === 0 ? oneHot(argmaxRow(processed), row.length) : softmaxRow(processed);
  });
}

function oneHot(i: number, n: number): Float64Array {
  const p = new Float64Array(n);
  p[i] = 1;
  return p;
}

/**
 * Speculative decoding (Leviathan et al., 2023; Chen et al., 2023): the draft model proposes k
 * tokens, the target scores them all in one forward pass, and each is accepted with probability
 * min(1, p/q); the first rejection is replaced by a sample from the residual max(0, p − q),
 * renormalised, and a full acceptance earns one extra token from p. The output distribution is
 * exactly the target's, whatever the draft. Both models see the same processors.
 */
export async function speculativeGenerate(
  target: CausalLM,
  draft: CausalLM,
  prompt: readonly number[],
  o: SpeculativeOptions = {},
): Promise<SpeculativeResult> {
  checkOptions('speculativeGenerate', o, [
    ...Object.keys(SAMPLING_OPTION_KEYS),
    'k',
    'maxNewTokens',
    'seed',
    'stopTokenIds',
    'useCache',
  ]);
  if (target.vocabSize !== draft.vocabSize)
    throw new RangeError(
      `speculativeGenerate: target vocabulary ${target.vocabSize} differs from the draft's ${draft.vocabSize}`,
    );
  checkPrompt('speculativeGenerate', prompt, target.vocabSize);
  const k = o.k ?? 4;
  if (!Number.isInteger(k) || k < 1)
    throw new RangeError(`speculativeGenerate: k must be an integer >= 1, got ${k}`);
  const maxNew = o.maxNewTokens ?? 64;
  const sampling = samplingPart(o);
  const rng = new Rng(o.seed ?? 0);
  const stops = new Set(o.stopTokenIds ?? []);
  const ids = [...prompt];
  // Each model decodes in one row; a row holds the accepted ids but the last (fed next round).
  const rowsOf = (model: CausalLM) =>
    new DecodeRows(model, { rows: 1, maxLength: prompt.length + maxNew + k, useCache: o.useCache });
  const targetRows = rowsOf(target);
  const draftRows = rowsOf(draft);
  const unfed = (rows: DecodeRows) => ids.slice(rows.ids(0).length);
  let proposed = 0;
  let accepted = 0;
  let targetCalls = 0;
  try {
    while (ids.length - prompt.length < maxNew) {
      const step = ids.length - prompt.length;
      const rounds = Math.min(k, maxNew - step);
      // Draft: propose `rounds` tokens autoregressively, remembering q for each.
      const qs: Float64Array[] = [];
      const proposals: number[] = [];
      let feed = unfed(draftRows);
      for (let i = 0; i < rounds; i++) {
        const [[logits]] = (await draftRows.extend([0], [feed])) as [[Float32Array]];
        const [q] = distributions([logits], [...ids, ...proposals], sampling, step + i);
        qs.push(q!);
        proposals.push(sampleIndex(q!, rng));
        feed = [proposals.at(-1)!];
      }
      // Target: one pass over its unfed ids and every proposal gives p for each (+1 extra).
      const [targetLogits] = await targetRows.extend([0], [[...unfed(targetRows), ...proposals]], {
        positions: rounds + 1,
      });
      targetCalls++;
      const verified = [...ids, ...proposals];
      const ps = distributions(targetLogits!, verified, sampling, step);
      let stop = false;
      let i = 0;
      for (; i < rounds; i++) {
        const x = proposals[i]!;
        const p = ps[i]![x]!;
        const q = qs[i]![x]!;
        proposed++;
        if (rng.next() * q < p) {
          accepted++;
          ids.push(x);
          if (stops.has(x)) {
            stop = true;
            break;
          }
          continue;
        }
        const residual = ps[i]!.map((pv, t) => Math.max(0, pv - qs[i]![t]!));
        ids.push(sampleIndex(residual, rng));
        stop = stops.has(ids.at(-1)!);
        break;
      }
      if (!stop && i === rounds && ids.length - prompt.length < maxNew) {
        ids.push(sampleIndex(ps[rounds]!, rng));
        stop = stops.has(ids.at(-1)!);
      }
      // Roll both rows back to the accepted ids but the last.
      for (const rows of [targetRows, draftRows])
        rows.truncate(0, Math.min(rows.ids(0).length, ids.length - 1));
      if (stop) break;
    }
  } finally {
    targetRows.dispose();
    draftRows.dispose();
  }
  return {
    ids: ids.slice(prompt.length, prompt.length + maxNew),
    acceptanceRate: proposed ? accepted / proposed : 0,
    targetCalls,
  };
}
