import { noGrad, Rng, slice, tensor, tidy } from '@tessera/tensor-webgpu';
import type { CausalLM } from './model.js';
import { processLogits, processorChain, type SamplingOptions, softmaxRow } from './processors.js';
import { argmaxRow, sampleIndex } from './rng.js';

export interface SpeculativeOptions extends SamplingOptions {
  /** Tokens the draft proposes per round. Default 4. */
  k?: number;
  maxNewTokens?: number;
  seed?: number;
  stopTokenIds?: readonly number[];
}

export interface SpeculativeResult {
  ids: number[];
  /** Accepted draft tokens / proposed draft tokens. */
  acceptanceRate: number;
  /** Target forward passes made (each verifies a whole draft round). */
  targetCalls: number;
}

/** Processed next-token distributions for every position of `ids` (logits read back once). */
async function distributions(
  model: CausalLM,
  ids: readonly number[],
  from: number,
  o: SamplingOptions,
  step: number,
): Promise<Float64Array[]> {
  const input = tensor(Int32Array.from(ids), {
    shape: [1, ids.length],
    device: (model as { device?: never }).device,
  });
  const rows = noGrad(() => tidy(() => slice(model.forward(input), 1, from - 1).contiguous()));
  input.dispose();
  const v = model.vocabSize;
  const data = (await rows.data()) as Float32Array;
  rows.dispose();
  const chain = processorChain(o);
  const out: Float64Array[] = [];
  for (let i = 0; i * v < data.length; i++) {
    const processed = processLogits(
      data.slice(i * v, (i + 1) * v),
      { ids: ids.slice(0, from + i), step: step + i },
      chain,
    );
    out.push(o.temperature === 0 ? oneHot(argmaxRow(processed), v) : softmaxRow(processed));
  }
  return out;
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
  if (target.vocabSize !== draft.vocabSize)
    throw new RangeError(
      `speculativeGenerate: target vocabulary ${target.vocabSize} differs from the draft's ${draft.vocabSize}`,
    );
  if (prompt.length === 0) throw new RangeError('speculativeGenerate: the prompt is empty');
  const k = o.k ?? 4;
  if (!Number.isInteger(k) || k < 1)
    throw new RangeError(`speculativeGenerate: k must be an integer >= 1, got ${k}`);
  const maxNew = o.maxNewTokens ?? 64;
  const rng = new Rng(o.seed ?? 0);
  const stops = new Set(o.stopTokenIds ?? []);
  const ids = [...prompt];
  let proposed = 0;
  let accepted = 0;
  let targetCalls = 0;
  while (ids.length - prompt.length < maxNew) {
    const step = ids.length - prompt.length;
    const rounds = Math.min(k, maxNew - step);
    // Draft: propose `rounds` tokens autoregressively, remembering q for each.
    const qs: Float64Array[] = [];
    const draftIds = [...ids];
    for (let i = 0; i < rounds; i++) {
      const [q] = await distributions(draft, draftIds, draftIds.length, o, step + i);
      qs.push(q!);
      draftIds.push(sampleIndex(q!, rng));
    }
    // Target: one pass over the prefix and every proposal gives p for each position (+1 extra).
    const ps = await distributions(target, draftIds, ids.length, o, step);
    targetCalls++;
    let stop = false;
    let i = 0;
    for (; i < rounds; i++) {
      const x = draftIds[ids.length]!;
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
    if (stop) break;
    if (i === rounds && ids.length - prompt.length < maxNew) {
      ids.push(sampleIndex(ps[rounds]!, rng));
      if (stops.has(ids.at(-1)!)) break;
    }
  }
  return {
    ids: ids.slice(prompt.length, prompt.length + maxNew),
    acceptanceRate: proposed ? accepted / proposed : 0,
    targetCalls,
  };
}
