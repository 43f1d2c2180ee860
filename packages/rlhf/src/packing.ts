import { checkOptions } from '@tessera/tensor-webgpu';
import { checkNumber } from './check.js';

/** One tokenized training example. */
export interface TokenizedExample {
  /** Token ids (integers). */
  ids: ArrayLike<number>;
  /**
   * 1 on completion (assistant) tokens, 0 on prompt tokens, one entry per id. Default: every
   * token is a completion token.
   */
  completionMask?: ArrayLike<number>;
}

/**
 * Fixed-length rows of tokens, row-major `[rows, length]`, ready to become tensors
 * (`tensor(batch.ids, { shape: [batch.rows, batch.length], dtype: 'i32' })`).
 *
 * A row holds one or more examples followed by padding. What a consumer must do with it:
 *
 * - **Attention**: token i may attend to token j only when `documentIds[i] === documentIds[j]`
 *   and j ≤ i (document-masked causal attention), so packed examples never see each other.
 *   Padding is a segment of its own (the last id of its row). A row from `padSequences` holds
 *   one example, so ordinary causal attention is already correct for it.
 * - **Positions**: use `positionIds` (0 at the start of every example) for the position
 *   embedding or RoPE, not the column index.
 * - **Loss**: pass `lossMask` to `sftLoss`; it is 0 on padding, on the first token of every
 *   example (not predictable from the example before it) and, with `completionOnly`, on prompt
 *   tokens.
 */
export interface TokenBatch {
  rows: number;
  length: number;
  /** Token ids [rows·length]; padding is `padId`. */
  ids: Int32Array;
  /** 1 where the token is a training target [rows·length]. */
  lossMask: Float32Array;
  /** Position of each token within its example (padding counts on from 0 in its own segment) [rows·length]. */
  positionIds: Int32Array;
  /** Segment of each token within its row: 0, 1, … for the examples in row order, then one id for the padding [rows·length]. */
  documentIds: Int32Array;
  /** The indices of the examples in each row, in order. */
  examples: number[][];
}

export interface BatchOptions {
  /** Tokens per row; longer examples are truncated to it (their first `length` tokens are kept). */
  length: number;
  /** Id written into padding. Default 0. */
  padId?: number;
  /**
   * Train on completion tokens only (default `true`, TRL `completion_only_loss`); `false` trains
   * on every real token.
   */
  completionOnly?: boolean;
}

const OPTION_KEYS = ['length', 'padId', 'completionOnly'];

/**
 * Packs tokenized examples into fixed-length rows by best-fit decreasing, TRL's default
 * `pack_dataset(strategy="bfd")`: examples (truncated to `length`) are placed longest first,
 * each into the open row with the least room that still fits it (the earliest such row on a
 * tie), else into a new row. Rows come out in the order they were opened. Packing wastes little
 * padding; the consumer must mask attention by `documentIds` (see `TokenBatch`).
 *
 * Reference: Ding et al., "Fewer Truncations Improve Language Modeling" (2024), best-fit packing.
 *
 * @throws TypeError / RangeError - an empty example, a non-integer id, a completion mask of the
 * wrong length, or bad options
 */
export function packSequences(
  examples: readonly TokenizedExample[],
  options: BatchOptions,
): TokenBatch {
  const resolved = batchOptions('packSequences', options);
  const { length } = resolved;
  const lengths = checkExamples('packSequences', examples).map((e, i) =>
    Math.min(checkExample('packSequences', e, i), length),
  );
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const rows: { items: number[]; used: number }[] = [];
  // Open rows by remaining room; each queue in the order rows reached that room.
  const byRoom: number[][] = Array.from({ length }, () => []);
  for (const i of order) {
    const need = lengths[i]!;
    let room = need;
    while (room < length && byRoom[room]!.length === 0) room++;
    const row = room < length ? byRoom[room]!.shift()! : rows.push({ items: [], used: 0 }) - 1;
    rows[row]!.items.push(i);
    rows[row]!.used += need;
    if (rows[row]!.used < length) byRoom[length - rows[row]!.used]!.push(row);
  }
  return layout(
    examples,
    rows.map((r) => r.items),
    resolved,
  );
}

/**
 * One example per row, right-padded (and truncated) to `length`, with the same fields as
 * `packSequences` — for models without document-masked attention, and for the steps that read
 * one answer per row (reward, DPO, PPO).
 *
 * @throws TypeError / RangeError - as `packSequences`
 */
export function padSequences(
  examples: readonly TokenizedExample[],
  options: BatchOptions,
): TokenBatch {
  const resolved = batchOptions('padSequences', options);
  for (const [i, e] of checkExamples('padSequences', examples).entries())
    checkExample('padSequences', e, i);
  return layout(
    examples,
    examples.map((_, i) => [i]),
    resolved,
  );
}

function batchOptions(where: string, options: BatchOptions): Required<BatchOptions> {
  checkOptions(where, options, OPTION_KEYS);
  if (options === undefined) throw new TypeError(`${where}: options with a length are required`);
  return {
    length: checkNumber(where, 'length', options.length, { min: 1, integer: true }),
    padId: checkNumber(where, 'padId', options.padId ?? 0, { integer: true }),
    completionOnly: options.completionOnly ?? true,
  };
}

function checkExamples(where: string, examples: readonly TokenizedExample[]) {
  if (!Array.isArray(examples))
    throw new TypeError(`${where}: examples must be an array of { ids, completionMask? }`);
  return examples;
}

/** Validates example `i` and returns its length. */
function checkExample(where: string, example: TokenizedExample, i: number): number {
  const ids = example?.ids;
  if (!ids || typeof ids.length !== 'number')
    throw new TypeError(`${where}: examples[${i}].ids must be an array of token ids`);
  if (ids.length === 0) throw new RangeError(`${where}: examples[${i}] has no tokens`);
  for (let t = 0; t < ids.length; t++)
    if (!Number.isInteger(ids[t]))
      throw new TypeError(`${where}: examples[${i}].ids[${t}] must be an integer, got ${ids[t]}`);
  const mask = example.completionMask;
  if (mask !== undefined && mask.length !== ids.length)
    throw new RangeError(
      `${where}: examples[${i}].completionMask has ${mask.length} entries for ${ids.length} ids`,
    );
  return ids.length;
}

/** Writes the rows: each example truncated to the row length, then padding. */
function layout(
  examples: readonly TokenizedExample[],
  rows: number[][],
  options: Required<BatchOptions>,
): TokenBatch {
  const { length, padId, completionOnly } = options;
  const size = rows.length * length;
  const batch: TokenBatch = {
    rows: rows.length,
    length,
    ids: new Int32Array(size).fill(padId),
    lossMask: new Float32Array(size),
    positionIds: new Int32Array(size),
    documentIds: new Int32Array(size),
    examples: rows,
  };
  rows.forEach((items, r) => {
    let at = r * length;
    items.forEach((i, doc) => {
      const { ids, completionMask } = examples[i]!;
      const n = Math.min(ids.length, length);
      for (let t = 0; t < n; t++, at++) {
        batch.ids[at] = ids[t]!;
        batch.positionIds[at] = t;
        batch.documentIds[at] = doc;
        const learn = !completionOnly || completionMask === undefined || completionMask[t] === 1;
        batch.lossMask[at] = t > 0 && learn ? 1 : 0;
      }
    });
    for (let p = 0; at < (r + 1) * length; p++, at++) {
      batch.positionIds[at] = p;
      batch.documentIds[at] = items.length;
    }
  });
  return batch;
}
