import {
  checkOptions,
  type Device,
  type DType,
  defineOp,
  entry1d,
  getDefaultDevice,
  grid1d,
  indexSelect,
  keep,
  runInPlace,
  slice,
  storageBindings,
  type Tensor,
  tensor,
  Uniforms,
  zeros,
} from '@tessera/tensor-webgpu';

/**
 * Writes src [n, H, T, D] into dst [rows, H, capacity, D]: src row i goes to cache row
 * `at[2i]`, from sequence position `at[2i + 1]` on, in place (`at` is i32 [n·2]).
 */
const writeRowsOp = defineOp<{ rows: number; capacity: number }>({
  name: 'kv_write',
  outputs: ([src], { rows, capacity }) => [
    { shape: [rows, src!.shape[1]!, capacity, src!.shape[3]!], dtype: src!.dtype },
  ],
  wgsl: ([src], [dst], _p, info) => {
    const [, h, t, d] = src!.shape as number[];
    const n = src!.shape.reduce((a, b) => a * b, 1);
    const u = new Uniforms()
      .u32('n', n)
      .u32('h', h!)
      .u32('t', t!)
      .u32('d', d!)
      .u32('cap', dst!.shape[2]!);
    const ty = src!.dtype === 'f16' ? 'f16' : 'f32';
    return {
      key: `kv_write:${ty}`,
      uniforms: u,
      workgroups: grid1d(n, info),
      // Writes only the new positions; the rest of dst (bound read_write) keeps its contents.
      code: () =>
        `${ty === 'f16' ? 'enable f16;\n' : ''}${u.declaration(3)}${storageBindings(
          [
            ['src', ty],
            ['at', 'i32'],
          ],
          [['dst', ty]],
        )}${entry1d(`  let e = i % P.d;
  let row = i / P.d;
  let pos = row % P.t;
  let head = (row / P.t) % P.h;
  let b = row / (P.t * P.h);
  let slot = u32(at[2u * b]);
  let start = u32(at[2u * b + 1u]);
  dst[((slot * P.h + head) * P.cap + start + pos) * P.d + e] = src[i];`)}`,
    };
  },
  cpu: ([src, at], [dst]) => {
    const [, h, t, d] = src!.shape as number[];
    const cap = dst!.shape[2]!;
    for (let i = 0; i < src!.data.length; i++) {
      const row = Math.floor(i / d!);
      const b = Math.floor(row / (t! * h!));
      const head = Math.floor(row / t!) % h!;
      const slot = at!.data[2 * b]!;
      const start = at!.data[2 * b + 1]!;
      dst!.data[((slot * h! + head) * cap + start + (row % t!)) * d! + (i % d!)] = src!.data[i]!;
    }
  },
});

/**
 * Checks that `rows` are distinct row indices of `cache`, naming the caller; returns them
 * (default: every row in order).
 */
export function checkRows(
  cache: KVCache,
  rows: readonly number[] | undefined,
  where: string,
): readonly number[] {
  const picked = rows ?? Array.from({ length: cache.rows }, (_, i) => i);
  const seen = new Set<number>();
  for (const r of picked) {
    if (!Number.isInteger(r) || r < 0 || r >= cache.rows)
      throw new RangeError(`${where}: row ${r} is not a row of the cache (0..${cache.rows - 1})`);
    if (seen.has(r)) throw new RangeError(`${where}: row ${r} is listed twice`);
    seen.add(r);
  }
  return picked;
}

/** Options of `new KVCache(...)`: its rows and head shape, paging, dtype and device. */
export interface KVCacheOptions {
  /** Sequences the cache holds (a batch, or a server's slots); each keeps its own length. */
  rows: number;
  /** Key/value heads per position (the model's `kvHeads`: fewer than its query heads under GQA). */
  kvHeads: number;
  /** Elements per head, 1–256. */
  headDim: number;
  /** Capacity grows in whole pages of this many positions (default 256). */
  pageSize?: number;
  /** Initial capacity in positions (rounded up to pages; default one page). */
  capacity?: number;
  /** Storage dtype, `f32` (default) or `f16`. */
  dtype?: DType;
  /** The device the storage lives on (default: the default device). */
  device?: Device;
}

const OPTION_KEYS: Record<keyof KVCacheOptions, true> = {
  rows: true,
  kvHeads: true,
  headDim: true,
  pageSize: true,
  capacity: true,
  dtype: true,
  device: true,
};

/**
 * Keys and values of past positions for incremental decoding: [rows, kvHeads, capacity, headDim]
 * tensors written in place as tokens arrive. Every row keeps its own length, so the rows of a
 * batch may be at different positions, and a row can be reset and refilled with a new prompt
 * while the others keep their state (continuous batching). The lengths live on the host
 * (`lengths`): reading them costs no GPU read-back.
 *
 * Capacity is shared by the rows and grows by whole pages, doubling when a row needs more, so
 * appending a token never reallocates — only crossing a capacity boundary does (amortised O(1)
 * per token).
 */
export class KVCache {
  /** The keys, [rows, kvHeads, capacity, headDim]; replaced (not written in place) when capacity grows. */
  k: Tensor;
  /** The values, shaped as `k`. */
  v: Tensor;
  /** Positions per page of capacity (`options.pageSize`, default 256). */
  readonly pageSize: number;
  private readonly device: Device;
  private readonly rowLengths: number[];

  /**
   * Throws on unknown options or sizes that are not positive integers, naming them.
   *
   * @param options - the cache's shape, paging, dtype and device, kept as given
   */
  constructor(readonly options: KVCacheOptions) {
    checkOptions('KVCache', options, Object.keys(OPTION_KEYS));
    for (const key of ['rows', 'kvHeads', 'headDim'] as const) {
      if (!Number.isInteger(options[key]) || options[key] < 1)
        throw new RangeError(`KVCache: ${key} must be a positive integer, got ${options[key]}`);
    }
    this.pageSize = options.pageSize ?? 256;
    this.device = options.device ?? getDefaultDevice();
    this.rowLengths = new Array<number>(options.rows).fill(0);
    const capacity =
      Math.max(1, Math.ceil((options.capacity ?? this.pageSize) / this.pageSize)) * this.pageSize;
    this.k = this.allocate(capacity);
    this.v = this.allocate(capacity);
  }

  /** Rows (sequences) the cache holds. */
  get rows(): number {
    return this.options.rows;
  }

  /** Positions each row can hold before the next growth. */
  get capacity(): number {
    return this.k.shape[2]!;
  }

  /** Positions held by each row, on the host. */
  get lengths(): readonly number[] {
    return this.rowLengths;
  }

  /** Storage the cache owns: kept out of any `tidy` scope it is grown in (a forward pass's). */
  private allocate(capacity: number): Tensor {
    const { rows, kvHeads, headDim, dtype } = this.options;
    return keep(
      zeros([rows, kvHeads, capacity, headDim], { device: this.device, dtype: dtype ?? 'f32' }),
    );
  }

  /**
   * Appends k, v [n, kvHeads, T, headDim]: row i of k and v goes to cache row `rows[i]` (default
   * row i of every row), at that row's own length, which grows by T. Throws on shapes that do not
   * match the cache, naming them.
   */
  append(k: Tensor, v: Tensor, options: { rows?: readonly number[] } = {}): void {
    checkOptions('KVCache.append', options, ['rows']);
    const rows = checkRows(this, options.rows, 'KVCache.append');
    const { kvHeads, headDim } = this.options;
    for (const [name, t] of [
      ['k', k],
      ['v', v],
    ] as const) {
      if (
        t.rank !== 4 ||
        t.shape[0] !== rows.length ||
        t.shape[1] !== kvHeads ||
        t.shape[3] !== headDim
      ) {
        throw new RangeError(
          `KVCache.append: ${name} must be [${rows.length}, ${kvHeads}, T, ${headDim}], got [${t.shape.join(', ')}]`,
        );
      }
    }
    const t = k.shape[2]!;
    if (v.shape[2] !== t)
      throw new RangeError(`KVCache.append: k has ${t} positions, v has ${v.shape[2]}`);
    const longest = Math.max(...rows.map((r) => this.rowLengths[r]! + t));
    if (longest > this.capacity) this.grow(longest);
    const at = tensor(Int32Array.from(rows.flatMap((r) => [r, this.rowLengths[r]!])), {
      device: this.device,
    });
    const params = { rows: this.rows, capacity: this.capacity };
    runInPlace(writeRowsOp, [k, at], params, [this.k]);
    runInPlace(writeRowsOp, [v, at], params, [this.v]);
    at.dispose();
    for (const r of rows) this.rowLengths[r]! += t;
  }

  private grow(needed: number): void {
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    capacity = Math.ceil(capacity / this.pageSize) * this.pageSize;
    const longest = Math.max(...this.rowLengths);
    if (longest === 0) {
      for (const key of ['k', 'v'] as const) {
        this[key].dispose();
        this[key] = this.allocate(capacity);
      }
      return;
    }
    const at = tensor(Int32Array.from(this.rowLengths.flatMap((_, r) => [r, 0])), {
      device: this.device,
    });
    for (const key of ['k', 'v'] as const) {
      const old = this[key];
      const next = this.allocate(capacity);
      const valid = slice(old, 2, 0, longest);
      runInPlace(writeRowsOp, [valid, at], { rows: this.rows, capacity }, [next]);
      valid.dispose();
      old.dispose();
      this[key] = next;
    }
    at.dispose();
  }

  /** Forgets every position of `row` (default: of every row), freeing it for a new sequence. */
  reset(row?: number): void {
    if (row === undefined) this.rowLengths.fill(0);
    else this.truncate(row, 0);
  }

  /** Keeps the first `length` positions of `row` (rolling back rejected speculative tokens). */
  truncate(row: number, length: number): void {
    checkRows(this, [row], 'KVCache.truncate');
    const held = this.rowLengths[row]!;
    if (!Number.isInteger(length) || length < 0 || length > held)
      throw new RangeError(
        `KVCache.truncate: length must be an integer in 0..${held} (row ${row}'s length), got ${length}`,
      );
    this.rowLengths[row] = length;
  }

  /**
   * Rearranges the rows: row i becomes a copy of old row `order[i]` (rows may repeat), as beam
   * search needs when a beam continues from another. `order` has one entry per row.
   */
  reorder(order: readonly number[]): void {
    if (order.length !== this.rows)
      throw new RangeError(
        `KVCache.reorder: order must list ${this.rows} rows, got ${order.length}`,
      );
    for (const r of order) checkRows(this, [r], 'KVCache.reorder');
    const index = tensor(Int32Array.from(order), { device: this.device });
    for (const key of ['k', 'v'] as const) {
      const old = this[key];
      this[key] = indexSelect(old, 0, index);
      old.dispose();
    }
    index.dispose();
    const lengths = order.map((r) => this.rowLengths[r]!);
    this.rowLengths.splice(0, this.rows, ...lengths);
  }

  /** Frees the keys and values. */
  dispose(): void {
    this.k.dispose();
    this.v.dispose();
  }
}
