import { processorChain, SAMPLING_OPTION_KEYS, type SamplingOptions } from '@tessera/sampler';
import {
  checkOptions,
  noGrad,
  Rng,
  slice,
  type Tensor,
  tensor,
  tidy,
} from '@tessera/tensor-webgpu';
import type { DiffusionLM } from './diffusion-lm.js';
import { chooseCommits, type ProposalRule, propose, type Remasking } from './remasking.js';
import { transferCounts, type UnmaskSchedule } from './schedule.js';

/** How a masked span is denoised: steps, blocks, remasking, and the sampler's processors. */
export interface DenoiseOptions extends SamplingOptions {
  /**
   * Denoising steps over the whole span, split evenly between the blocks (each block gets
   * steps / blocks, at most its length). Default: the span's length (one token per step), or —
   * with `threshold` — as many as the threshold needs.
   */
  steps?: number;
  /**
   * Semi-autoregressive blocks (LLaDA §2.4): the span is decoded block after block, left to
   * right, each to the end before the next starts. Default: the span's length (one block).
   */
  blockLength?: number;
  /** Which predictions a step keeps. Default `low-confidence`. */
  remasking?: Remasking;
  /** How many positions each step of a block commits. Default `linear` (LLaDA). */
  schedule?: UnmaskSchedule;
  /**
   * Confidence-threshold parallel decoding (Fast-dLLM, Wu et al. 2025), in (0, 1]: a step also
   * commits every masked position of its block whose confidence reaches the threshold, and at
   * least one; a block ends when it has no masks left. With `steps`, the schedule's count is a
   * minimum per step. Needs `low-confidence` remasking.
   */
  threshold?: number;
  /** Seed of the sampling and random-remasking draws. Default 0. */
  seed?: number;
  /** Called after every step with each row's span so far (the mask id where still masked). */
  onStep?: (spans: readonly (readonly number[])[]) => void;
}

/** Every key of `DenoiseOptions`, for `checkOptions` in the options that extend it. */
export const DENOISE_OPTION_KEYS: Record<keyof DenoiseOptions, true> = {
  ...SAMPLING_OPTION_KEYS,
  steps: true,
  blockLength: true,
  remasking: true,
  schedule: true,
  threshold: true,
  seed: true,
  onStep: true,
};

/** The rows to denoise: known tokens, a masked span, known tokens. */
export interface DenoiseInput {
  /** Each row's tokens before the span (a prompt, a prefix); the same length in every row. */
  left: readonly (readonly number[])[];
  /** Masked positions to fill in each row. */
  length: number;
  /** Each row's tokens after the span (a suffix); the same length in every row. Default none. */
  right?: readonly (readonly number[])[];
}

/** The denoised spans and what they cost. */
export interface DenoiseResult {
  /** Each row's span, every position committed. */
  tokens: number[][];
  /** Forward passes of the model (one per step that committed anything): the decoding cost. */
  forwardPasses: number;
}

const isInteger = (v: unknown, min: number): v is number => Number.isInteger(v) && Number(v) >= min;

/** The rows' shared width of a part, after checking every id. */
function partWidth(
  name: string,
  part: readonly (readonly number[])[],
  rows: number,
  model: DiffusionLM,
): number {
  if (part.length !== rows)
    throw new RangeError(`denoise: ${name} has ${part.length} rows, left has ${rows}`);
  const width = part[0]?.length ?? 0;
  for (const row of part) {
    if (row.length !== width)
      throw new RangeError(
        `denoise: every row of ${name} must have the same length (${width}), got one of ${row.length}`,
      );
    for (const id of row)
      if (!Number.isInteger(id) || id < 0 || id >= model.vocabSize || id === model.maskId)
        throw new RangeError(
          `denoise: ${name} id ${id} is not a token of the vocabulary (0..${model.vocabSize - 1}, not the mask id ${model.maskId})`,
        );
  }
  return width;
}

/** The checked block and step layout of a span. */
function layout(length: number, o: DenoiseOptions) {
  if (!isInteger(length, 1))
    throw new RangeError(`denoise: length must be an integer >= 1, got ${length}`);
  const block = o.blockLength ?? length;
  if (!isInteger(block, 1) || block > length || length % block !== 0)
    throw new RangeError(
      `denoise: blockLength must be an integer in 1..${length} that divides the length ${length}, got ${block}`,
    );
  const blocks = length / block;
  if (o.threshold !== undefined && !(o.threshold > 0 && o.threshold <= 1))
    throw new RangeError(`denoise: threshold must be in (0, 1], got ${o.threshold}`);
  if (o.threshold !== undefined && o.remasking === 'random')
    throw new RangeError(
      'denoise: threshold needs low-confidence remasking (a random confidence has no meaning to compare)',
    );
  const steps = o.steps ?? (o.threshold === undefined ? length : undefined);
  if (
    steps !== undefined &&
    (!isInteger(steps, 1) || steps % blocks !== 0 || steps / blocks > block)
  )
    throw new RangeError(
      `denoise: steps must be a multiple of the ${blocks} block(s) of at most ${block} per block (1 token per step), got ${steps}`,
    );
  if (o.remasking !== undefined && o.remasking !== 'low-confidence' && o.remasking !== 'random')
    throw new RangeError(
      `denoise: remasking must be 'low-confidence' or 'random', got ${JSON.stringify(o.remasking)}`,
    );
  const counts = steps === undefined ? [] : transferCounts(block, steps / blocks, o.schedule);
  return { block, blocks, counts };
}

/**
 * Fills a masked span of every row by reverse diffusion (LLaDA §2.4, Algorithm 4–5): the span
 * starts all masks; each step runs the model once on the canvas, proposes a token for every
 * masked position of the current block (the sampler's processors, then argmax or a draw at the
 * temperature; the mask token is never proposed), and commits as many as the schedule says —
 * the most confident (low-confidence remasking) or random ones — or, with `threshold`, every
 * one confident enough (Fast-dLLM). The rest stay masked for the next step. Blocks go left to
 * right (semi-autoregressive); a committed token is never changed.
 *
 * The canvas is left + span + right when it fits the model's window (`maxSequenceLength`), so a
 * block sees the masks of the blocks after it, as LLaDA decodes. A generation longer than the
 * window (no right part) slides it instead: each block is decoded on the last
 * window − blockLength tokens before it followed by the block. A right part must fit (see
 * `infill`, which crops its context).
 *
 * Each step reads back the logits of the current block only ([B, blockLength, V]); the choice
 * runs on the host, where the sampler's processors run.
 *
 * @throws RangeError - unknown options or values out of range (blocks that do not divide the
 *   span, steps that do not divide between the blocks, a threshold outside (0, 1]), rows of
 *   different lengths, ids outside the vocabulary or equal to the mask id, a canvas that does
 *   not fit the window — each naming the value
 */
export async function denoise(
  model: DiffusionLM,
  input: DenoiseInput,
  options: DenoiseOptions = {},
): Promise<DenoiseResult> {
  checkOptions('denoise', options, Object.keys(DENOISE_OPTION_KEYS));
  checkOptions('denoise input', input, ['left', 'length', 'right']);
  const { block, blocks, counts } = layout(input.length, options);
  const rows = input.left.length;
  if (rows < 1) throw new RangeError('denoise: left must hold at least one row');
  const right = input.right ?? input.left.map(() => []);
  const before = partWidth('left', input.left, rows, model);
  const after = partWidth('right', right, rows, model);
  const total = before + input.length + after;
  const window = model.maxSequenceLength ?? Number.POSITIVE_INFINITY;
  const slides = total > window;
  if (slides && after > 0)
    throw new RangeError(
      `denoise: the canvas (${before} + ${input.length} + ${after} tokens) exceeds the model's window of ${window}; crop the context (infill does)`,
    );
  if (slides && block >= window)
    throw new RangeError(
      `denoise: ${before} + ${input.length} tokens exceed the model's window of ${window}, so blocks slide it; blockLength must then be < ${window}, got ${block}`,
    );
  const { seed = 0, temperature = 1, threshold } = options;
  const sampling = Object.fromEntries(
    Object.entries(options).filter(([k]) => k in SAMPLING_OPTION_KEYS && k !== 'temperature'),
  ) as SamplingOptions;
  const rule: ProposalRule = {
    maskId: model.maskId,
    chain: processorChain(sampling),
    temperature,
    remasking: options.remasking ?? 'low-confidence',
    rng: new Rng(seed),
  };
  if (!(temperature >= 0 && Number.isFinite(temperature)))
    throw new RangeError(`sampler: temperature must be a finite number >= 0, got ${temperature}`);

  const mask = model.maskId;
  const canvas = input.left.map((l, r) => [
    ...l,
    ...new Array<number>(input.length).fill(mask),
    ...right[r]!,
  ]);
  const spans = () => canvas.map((c) => c.slice(before, before + input.length));
  let forwardPasses = 0;
  for (let k = 0; k < blocks; k++) {
    const start = before + k * block;
    const end = start + block;
    const open = (r: number) => canvas[r]!.slice(start, end).some((id) => id === mask);
    for (let step = 0; canvas.some((_, r) => open(r)); step++) {
      const scheduled = counts[step] ?? 1;
      if (threshold === undefined && scheduled === 0) continue;
      const offset = slides ? Math.max(0, end - window) : 0;
      const logits = await blockLogits(model, canvas, offset, slides ? end : total, start, end);
      forwardPasses++;
      const vocab = model.vocabSize;
      canvas.forEach((row, r) => {
        const proposals = [];
        const known = row.filter((id) => id !== mask);
        for (let j = start; j < end; j++) {
          if (row[j] !== mask) continue;
          const at = (r * block + (j - start)) * vocab;
          const ctx = { ids: known, step: j - before };
          proposals.push(propose(logits.subarray(at, at + vocab), j, ctx, rule));
        }
        for (const p of chooseCommits(proposals, scheduled, threshold)) row[p.position] = p.token;
      });
      options.onStep?.(spans());
    }
  }
  return { tokens: spans(), forwardPasses };
}

/** One forward pass on canvas[from, to) of every row; the logits of positions [start, end), read back. */
async function blockLogits(
  model: DiffusionLM,
  canvas: readonly (readonly number[])[],
  from: number,
  to: number,
  start: number,
  end: number,
): Promise<Float32Array> {
  const ids = Int32Array.from(canvas.flatMap((row) => row.slice(from, to)));
  const logits: Tensor = noGrad(() =>
    tidy(() => {
      const x = tensor(ids, { shape: [canvas.length, to - from], device: model.device });
      return slice(model.forward(x), 1, start - from, end - from).contiguous();
    }),
  );
  try {
    return (await logits.data()) as Float32Array;
  } finally {
    logits.dispose();
  }
}
