import { checkOptions, noGrad, slice, type Tensor, tensor, tidy } from '@tessera/tensor-webgpu';
import type { CausalLM, ModelCache } from './model.js';

/** Options of `DecodeRows`. */
export interface DecodeRowsOptions {
  /** Sequences decoded side by side. */
  rows: number;
  /**
   * Positions a row's KV cache holds (default and at most the model's `maxSequenceLength`); a
   * longer row keeps a window, refilled with its last maxLength / 2 tokens when it fills up.
   */
  maxLength?: number;
  /** Use the model's KV cache when it has one (default true); without, every step reruns the window. */
  useCache?: boolean;
}

/** One group of rows fed together: the same number of tokens each. */
interface Feed {
  rows: number[];
  tokens: number[][];
  /** Logit positions wanted at the end of each row's feed. */
  wanted: number;
}

/**
 * The device side of decoding: `rows` token sequences run through one model side by side, each
 * with its own KV-cache row at its own length (the cache is the model's typed `ModelCache`).
 * `extend` appends tokens to some rows and returns their next-token logits; rows can be reset,
 * truncated (speculative decoding) and reordered (beam search). Generation, beam search,
 * speculative decoding and `DecodeBatch` (continuous batching) are built on it.
 *
 * Each forward pass feeds only the tokens a row's cache does not hold yet, and rows that feed
 * the same number of tokens share one pass. Only the wanted positions' logits are read back.
 */
export class DecodeRows {
  readonly rows: number;
  /** The model's cache, or undefined when decoding reruns the window every step. */
  readonly cache: ModelCache | undefined;
  /** Tokens of each row so far. */
  private readonly tokens: number[][];
  /** Index (in `tokens`) of the first token held in each row's cache. */
  private readonly start: number[];
  private readonly window: number;

  /** Throws on unknown options, a bad row count, or no window (no maxLength and an unbounded model). */
  constructor(
    readonly model: CausalLM,
    options: DecodeRowsOptions,
  ) {
    checkOptions('DecodeRows', options, ['rows', 'maxLength', 'useCache']);
    const { rows } = options;
    if (!Number.isInteger(rows) || rows < 1)
      throw new RangeError(`DecodeRows: rows must be a positive integer, got ${rows}`);
    const limit = model.maxSequenceLength ?? Number.POSITIVE_INFINITY;
    const maxLength = Math.min(options.maxLength ?? limit, limit);
    if (!(maxLength >= 1))
      throw new RangeError(`DecodeRows: maxLength must be >= 1, got ${options.maxLength}`);
    const useCache = (options.useCache ?? true) && typeof model.createCache === 'function';
    if (useCache && !Number.isFinite(maxLength))
      throw new RangeError(
        'DecodeRows: give maxLength (the model states no maxSequenceLength to size its cache)',
      );
    this.rows = rows;
    this.window = maxLength;
    this.cache = useCache ? model.createCache!(rows, maxLength) : undefined;
    this.tokens = Array.from({ length: rows }, () => []);
    this.start = new Array<number>(rows).fill(0);
  }

  /** The tokens `row` holds (prompt and generated). */
  ids(row: number): readonly number[] {
    return this.tokens[this.checkRow(row, 'ids')]!;
  }

  private checkRow(row: number, where: string): number {
    if (!Number.isInteger(row) || row < 0 || row >= this.rows)
      throw new RangeError(`DecodeRows.${where}: row ${row} is not a row (0..${this.rows - 1})`);
    return row;
  }

  /**
   * Appends `tokens[i]` to row `rows[i]` and runs the model on what each row's cache lacks.
   * Returns, per row, the logits (Float32Array over the vocabulary) after each of its last
   * `positions` new tokens (default 1: after its last token; speculative decoding asks for more).
   * Rows are distinct; each gets at least `positions` tokens. Throws on bad rows or tokens.
   */
  async extend(
    rows: readonly number[],
    tokens: readonly (readonly number[])[],
    options: { positions?: number } = {},
  ): Promise<Float32Array[][]> {
    checkOptions('DecodeRows.extend', options, ['positions']);
    const wanted = options.positions ?? 1;
    if (rows.length !== tokens.length)
      throw new RangeError(
        `DecodeRows.extend: ${rows.length} rows but ${tokens.length} token lists`,
      );
    if (new Set(rows).size !== rows.length)
      throw new RangeError(`DecodeRows.extend: rows [${rows.join(', ')}] repeat a row`);
    if (!Number.isInteger(wanted) || wanted < 1 || wanted > this.window)
      throw new RangeError(
        `DecodeRows.extend: positions must be an integer in 1..${this.window} (the window), got ${wanted}`,
      );
    for (const [i, row] of rows.entries()) {
      this.checkRow(row, 'extend');
      const add = tokens[i]!;
      if (add.length < wanted)
        throw new RangeError(
          `DecodeRows.extend: row ${row} gets ${add.length} tokens, fewer than the ${wanted} positions wanted`,
        );
      for (const id of add) {
        if (!Number.isInteger(id) || id < 0 || id >= this.model.vocabSize)
          throw new RangeError(
            `DecodeRows.extend: token ${id} is outside the vocabulary (0..${this.model.vocabSize - 1})`,
          );
      }
    }
    const groups = new Map<number, Feed>();
    for (const [i, row] of rows.entries()) {
      const add = tokens[i]!;
      this.tokens[row]!.push(...add);
      const feed = this.feed(row, wanted);
      const group = groups.get(feed.length) ?? { rows: [], tokens: [], wanted };
      group.rows.push(row);
      group.tokens.push(feed);
      groups.set(feed.length, group);
    }
    const out = new Map<number, Float32Array[]>();
    for (const group of groups.values()) {
      const logits = await this.run(group);
      for (const [i, row] of group.rows.entries()) out.set(row, logits[i]!);
    }
    return rows.map((row) => out.get(row)!);
  }

  /**
   * The tokens to run for `row` now: with a cache, those it does not hold yet — after resetting
   * it to a window of the row's last tokens when they would not fit; without one, the window.
   */
  private feed(row: number, wanted: number): number[] {
    const ids = this.tokens[row]!;
    if (!this.cache) return ids.slice(-this.window);
    const held = this.cache.lengths[row]!;
    if (ids.length - this.start[row]! > this.window) {
      // Past the cache's room: refill with the last half window (at least the wanted positions).
      this.cache.reset(row);
      this.start[row] = ids.length - Math.max(wanted, Math.floor(this.window / 2), 1);
      return ids.slice(this.start[row]);
    }
    return ids.slice(this.start[row]! + held);
  }

  /** One forward pass over a group; reads back the wanted positions' logits of each row. */
  private async run(group: Feed): Promise<Float32Array[][]> {
    const n = group.rows.length;
    const length = group.tokens[0]!.length;
    const { device, vocabSize: v } = this.model;
    const ids = tensor(Int32Array.from(group.tokens.flat()), { shape: [n, length], device });
    const step = this.cache ? { cache: this.cache, rows: group.rows } : undefined;
    const wanted: Tensor = noGrad(() =>
      tidy(() =>
        slice(this.model.forward(ids, step), 1, length - group.wanted, length).contiguous(),
      ),
    );
    ids.dispose();
    const data = (await wanted.data()) as Float32Array;
    wanted.dispose();
    return Array.from({ length: n }, (_, i) =>
      Array.from({ length: group.wanted }, (_, t) => {
        const at = (i * group.wanted + t) * v;
        return data.slice(at, at + v);
      }),
    );
  }

  /** Forgets `row`'s tokens and cache positions, freeing it for a new sequence. */
  reset(row: number): void {
    this.checkRow(row, 'reset');
    this.tokens[row]!.length = 0;
    this.start[row] = 0;
    this.cache?.reset(row);
  }

  /** Keeps the first `length` tokens of `row` (rejected speculative tokens roll back). */
  truncate(row: number, length: number): void {
    const ids = this.tokens[this.checkRow(row, 'truncate')]!;
    if (!Number.isInteger(length) || length < 0 || length > ids.length)
      throw new RangeError(
        `DecodeRows.truncate: length must be an integer in 0..${ids.length}, got ${length}`,
      );
    ids.length = length;
    if (!this.cache) return;
    const keep = length - this.start[row]!;
    if (keep >= 0) this.cache.truncate(row, Math.min(keep, this.cache.lengths[row]!));
    else {
      // The cut falls before the cached window: refill from a window ending at the cut.
      this.cache.reset(row);
      this.start[row] = Math.max(0, length - Math.max(1, Math.floor(this.window / 2)));
    }
  }

  /** Row i becomes a copy of old row `order[i]` (beam search); one entry per row. */
  reorder(order: readonly number[]): void {
    if (order.length !== this.rows)
      throw new RangeError(
        `DecodeRows.reorder: order must list ${this.rows} rows, got ${order.length}`,
      );
    for (const r of order) this.checkRow(r, 'reorder');
    const tokens = order.map((r) => [...this.tokens[r]!]);
    const start = order.map((r) => this.start[r]!);
    tokens.forEach((t, i) => {
      this.tokens[i] = t;
    });
    this.start.splice(0, this.rows, ...start);
    this.cache?.reorder(order);
  }

  /** Frees the cache. */
  dispose(): void {
    this.cache?.dispose();
  }
}
