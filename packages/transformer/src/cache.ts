import { KVCache } from '@tessera/attention-flash';
import { checkOptions, type Device, type Tensor, tensor } from '@tessera/tensor-webgpu';

/** Sizes of a decoder's cache. */
export interface DecoderCacheOptions {
  /** Sequences the cache holds: a batch, or a server's slots. */
  rows: number;
  /** Positions a row may hold (at most the model's `maxSeqLen`). */
  maxLength: number;
  layers: number;
  kvHeads: number;
  headDim: number;
  device: Device;
}

/**
 * The KV caches of a decoder's layers for `rows` sequences, each row at its own length: rows of
 * one batch may be at different positions, and a row can be reset and given a new prompt while
 * the others keep decoding (continuous batching). Per-row lengths are kept on the host. This is
 * the typed cache of the sampler's `CausalLM` (`ModelCache`).
 */
export class DecoderCache {
  /** One KV cache per layer. */
  readonly layers: KVCache[];
  readonly maxLength: number;

  /** Throws on unknown options or a maxLength that is not a positive integer. */
  constructor(options: DecoderCacheOptions) {
    checkOptions('DecoderCache', options, [
      'rows',
      'maxLength',
      'layers',
      'kvHeads',
      'headDim',
      'device',
    ]);
    const { rows, maxLength, layers, kvHeads, headDim, device } = options;
    if (!Number.isInteger(maxLength) || maxLength < 1)
      throw new RangeError(`DecoderCache: maxLength must be a positive integer, got ${maxLength}`);
    this.maxLength = maxLength;
    this.layers = Array.from(
      { length: layers },
      // Pages of at most 256 positions, and no larger than the window: a server's rows of a
      // 64-position window take 64 positions each, not a 256-position page.
      () => {
        const page = Math.min(maxLength, 256);
        return new KVCache({ rows, kvHeads, headDim, capacity: page, pageSize: page, device });
      },
    );
  }

  /** Rows (sequences) the cache holds. */
  get rows(): number {
    return this.layers[0]!.rows;
  }

  /** Positions held by each row (on the host: no GPU read-back). */
  get lengths(): readonly number[] {
    return this.layers[0]!.lengths;
  }

  /**
   * i32 positions [n, T] of the next `t` tokens of `rows`, each row from its own length. Throws
   * on a row that is not in the cache or would pass `maxLength`, naming the row.
   */
  positions(rows: readonly number[], t: number, device: Device): Tensor {
    const lengths = this.lengths;
    for (const r of rows) {
      if (!Number.isInteger(r) || r < 0 || r >= this.rows)
        throw new RangeError(
          `DecoderCache: row ${r} is not a row of the cache (0..${this.rows - 1})`,
        );
      if (lengths[r]! + t > this.maxLength)
        throw new RangeError(
          `DecoderCache: row ${r} holds ${lengths[r]} positions; ${t} more exceed its maxLength ${this.maxLength}`,
        );
    }
    const data = Int32Array.from(
      rows.flatMap((r) => Array.from({ length: t }, (_, i) => lengths[r]! + i)),
    );
    return tensor(data, { shape: [rows.length, t], device });
  }

  /** Forgets `row` (default: every row), freeing it for a new sequence. */
  reset(row?: number): void {
    for (const layer of this.layers) layer.reset(row);
  }

  /** Keeps the first `length` positions of `row` (e.g. rejected speculative tokens roll back). */
  truncate(row: number, length: number): void {
    for (const layer of this.layers) layer.truncate(row, length);
  }

  /** Row i becomes a copy of old row `order[i]` (beam search). */
  reorder(order: readonly number[]): void {
    for (const layer of this.layers) layer.reorder(order);
  }

  /** Frees every layer's keys and values. */
  dispose(): void {
    for (const layer of this.layers) layer.dispose();
  }
}
