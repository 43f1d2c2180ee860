/**
 * Toy models and statistics for the sampler's tests: a bigram lookup table (no cache) and a
 * history-dependent model with a host-side cache whose rows keep their own positions.
 */
import type { CausalLM, ForwardOptions, ModelCache } from '@tessera/sampler';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { expect } from 'vitest';

/** The next-token logits are a row of a table picked by the last token. */
export class BigramLM implements CausalLM {
  readonly table: Tensor;
  forwards = 0;
  constructor(
    readonly device: Device,
    rows: number[][],
  ) {
    this.table = T.tensor(rows, { device });
  }
  get vocabSize(): number {
    return this.table.shape[1]!;
  }
  forward(ids: Tensor): Tensor {
    this.forwards++;
    return T.embedding(this.table, ids);
  }
}

/** A cache of token histories: one i32 [1, length] tensor per row, lengths on the host. */
export class HistoryCache implements ModelCache {
  histories: (Tensor | undefined)[];
  lengths: number[];
  disposed = false;
  constructor(
    readonly rows: number,
    readonly maxLength: number,
  ) {
    this.histories = new Array(rows).fill(undefined);
    this.lengths = new Array<number>(rows).fill(0);
  }
  /** Keeps `seq` as `row`'s history (beyond any tidy scope), freeing the previous one. */
  set(row: number, seq: Tensor | undefined): void {
    const old = this.histories[row];
    this.histories[row] = seq && T.keep(seq);
    this.lengths[row] = seq?.shape[1] ?? 0;
    if (old && !this.histories.includes(old)) old.dispose();
  }
  reset(row?: number): void {
    for (let r = 0; r < this.rows; r++) if (row === undefined || row === r) this.set(r, undefined);
  }
  truncate(row: number, length: number): void {
    const h = this.histories[row];
    this.set(row, h && length > 0 ? T.contiguous(T.slice(h, 1, 0, length)) : undefined);
  }
  reorder(order: readonly number[]): void {
    const old = this.histories;
    this.histories = order.map((r) => old[r] && T.keep(T.contiguous(old[r]!)));
    this.lengths = order.map((r) => this.lengths[r]!);
    for (const h of old) h?.dispose();
  }
  dispose(): void {
    this.reset();
    this.disposed = true;
  }
}

/**
 * Logits that depend on the last two tokens and the position: tables indexed by the last token,
 * the one before it (0 at the start) and the position, summed — so a row fed at the wrong
 * position or with the wrong history gives other logits. Its cache keeps each row's ids; every
 * forward pass recomputes a row's whole history and returns the new positions.
 */
export class TrigramLM implements CausalLM<HistoryCache> {
  /** Shapes [n, T] of every forward pass. */
  readonly calls: number[][] = [];
  readonly caches: HistoryCache[] = [];
  private readonly last: Tensor;
  private readonly prev: Tensor;
  private readonly position: Tensor;

  readonly maxSequenceLength: number;

  constructor(
    readonly device: Device,
    readonly vocabSize: number,
    options: { maxSequenceLength?: number; seed?: number } = {},
  ) {
    const maxSequenceLength = options.maxSequenceLength ?? 64;
    this.maxSequenceLength = maxSequenceLength;
    const base = 10 * (options.seed ?? 0);
    const table = (rows: number, seed: number, scale: number) =>
      T.mul(T.randn([rows, vocabSize], { device, seed: base + seed }), scale);
    this.last = table(vocabSize, 1, 2);
    this.prev = table(vocabSize, 2, 1.5);
    this.position = table(maxSequenceLength, 3, 1);
  }

  /** Logits [1, L, V] of a whole sequence [1, L]. */
  private logitsOf(seq: Tensor): Tensor {
    const length = seq.shape[1]!;
    const zero = T.zeros([1, 1], { device: this.device, dtype: 'i32' });
    const before = length > 1 ? T.cat([zero, T.slice(seq, 1, 0, length - 1)], 1) : zero;
    const positions = T.arange(length, undefined, 1, { device: this.device, dtype: 'i32' });
    return T.add(
      T.add(T.embedding(this.last, seq), T.embedding(this.prev, before)),
      T.reshape(T.embedding(this.position, positions), [1, length, this.vocabSize]),
    );
  }

  forward(ids: Tensor, options: ForwardOptions<HistoryCache> = {}): Tensor {
    const [n, t] = ids.shape as [number, number];
    this.calls.push([n, t]);
    const { cache } = options;
    const outs = Array.from({ length: n }, (_, b) => {
      const row = options.rows?.[b] ?? b;
      const fresh = T.slice(ids, 0, b, b + 1);
      const history = cache?.histories[row];
      const seq = T.contiguous(history ? T.cat([history, fresh], 1) : fresh);
      if (seq.shape[1]! > (cache?.maxLength ?? this.maxSequenceLength))
        throw new RangeError(`TrigramLM: row ${row} holds ${seq.shape[1]} positions, too many`);
      cache?.set(row, seq);
      return T.slice(this.logitsOf(seq), 1, seq.shape[1]! - t);
    });
    return T.cat(outs, 0);
  }

  createCache(rows: number, maxLength: number): HistoryCache {
    const cache = new HistoryCache(rows, maxLength);
    this.caches.push(cache);
    return cache;
  }
}

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
export function chiSquare(
  counts: number[],
  probs: ArrayLike<number>,
  n: number,
): { stat: number; dof: number } {
  let stat = 0;
  let dof = -1;
  for (let i = 0; i < counts.length; i++) {
    const e = probs[i]! * n;
    if (e > 0) {
      stat += (counts[i]! - e) ** 2 / e;
      dof++;
    } else expect(counts[i]).toBe(0);
  }
  return { stat, dof };
}

/** 99.9th percentile of chi-square for small degrees of freedom (a fixed seed makes this deterministic). */
export const CHI2_999: Record<number, number> = {
  1: 10.83,
  2: 13.82,
  3: 16.27,
  4: 18.47,
  5: 20.52,
  6: 22.46,
  7: 24.32,
  15: 37.7,
};
