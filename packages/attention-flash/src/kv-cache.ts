import {
  type Device,
  type DType,
  defineOp,
  entry1d,
  getDefaultDevice,
  grid1d,
  runInPlace,
  slice,
  storageBindings,
  type Tensor,
  Uniforms,
  zeros,
} from '@tessera/tensor-webgpu';

/** Writes src [B, H, T, D] into dst [B, H, capacity, D] at sequence position `at`, in place. */
const writeSeqOp = defineOp<{ at: number; capacity: number }>({
  name: 'kv_write',
  outputs: ([src], { capacity }) => [
    { shape: [src!.shape[0]!, src!.shape[1]!, capacity, src!.shape[3]!], dtype: src!.dtype },
  ],
  wgsl: ([src], [dst], { at }, info) => {
    const [, , t, d] = src!.shape as number[];
    const n = src!.shape.reduce((a, b) => a * b, 1);
    const u = new Uniforms()
      .u32('n', n)
      .u32('t', t!)
      .u32('d', d!)
      .u32('cap', dst!.shape[2]!)
      .u32('at', at);
    const ty = src!.dtype === 'f16' ? 'f16' : 'f32';
    return {
      key: `kv_write:${ty}`,
      uniforms: u,
      workgroups: grid1d(n, info),
      // Writes only the new positions; the rest of dst (bound read_write) keeps its contents.
      code: () =>
        `${ty === 'f16' ? 'enable f16;\n' : ''}${u.declaration(2)}${storageBindings([['src', ty]], [['dst', ty]])}${entry1d(`  let e = i % P.d;
  let row = i / P.d;
  let pos = row % P.t;
  let bh = row / P.t;
  dst[(bh * P.cap + P.at + pos) * P.d + e] = src[i];`)}`,
    };
  },
  cpu: ([src], [dst], { at }) => {
    const [, , t, d] = src!.shape as number[];
    const cap = dst!.shape[2]!;
    for (let i = 0; i < src!.data.length; i++) {
      const e = i % d!;
      const row = Math.floor(i / d!);
      dst!.data[(Math.floor(row / t!) * cap + at + (row % t!)) * d! + e] = src!.data[i]!;
    }
  },
});

export interface KVCacheOptions {
  batch: number;
  kvHeads: number;
  headDim: number;
  /** Capacity grows in whole pages of this many positions (default 256). */
  pageSize?: number;
  /** Initial capacity in positions (rounded up to pages; default one page). */
  capacity?: number;
  dtype?: DType;
  device?: Device;
}

/**
 * Keys and values of past positions for incremental decoding: [batch, kvHeads, capacity, headDim]
 * tensors written in place as tokens arrive. Capacity grows by whole pages, doubling when full,
 * so appending a token never reallocates — only crossing a capacity boundary does (amortised
 * O(1) per token). The valid prefix is `length` positions.
 */
export class KVCache {
  k: Tensor;
  v: Tensor;
  length = 0;
  readonly pageSize: number;
  private readonly device: Device;

  constructor(readonly options: KVCacheOptions) {
    for (const key of ['batch', 'kvHeads', 'headDim'] as const) {
      if (!Number.isInteger(options[key]) || options[key] < 1)
        throw new RangeError(`KVCache: ${key} must be a positive integer, got ${options[key]}`);
    }
    this.pageSize = options.pageSize ?? 256;
    this.device = options.device ?? getDefaultDevice();
    const capacity =
      Math.max(1, Math.ceil((options.capacity ?? this.pageSize) / this.pageSize)) * this.pageSize;
    this.k = this.allocate(capacity);
    this.v = this.allocate(capacity);
  }

  get capacity(): number {
    return this.k.shape[2]!;
  }

  private allocate(capacity: number): Tensor {
    const { batch, kvHeads, headDim, dtype } = this.options;
    return zeros([batch, kvHeads, capacity, headDim], {
      device: this.device,
      dtype: dtype ?? 'f32',
    });
  }

  /** Appends k, v of shape [batch, kvHeads, T, headDim] at position `length`. */
  append(k: Tensor, v: Tensor): void {
    const { batch, kvHeads, headDim } = this.options;
    for (const [name, t] of [
      ['k', k],
      ['v', v],
    ] as const) {
      if (
        t.rank !== 4 ||
        t.shape[0] !== batch ||
        t.shape[1] !== kvHeads ||
        t.shape[3] !== headDim
      ) {
        throw new RangeError(
          `KVCache.append: ${name} must be [${batch}, ${kvHeads}, T, ${headDim}], got [${t.shape.join(', ')}]`,
        );
      }
    }
    const t = k.shape[2]!;
    if (v.shape[2] !== t)
      throw new RangeError(`KVCache.append: k has ${t} positions, v has ${v.shape[2]}`);
    if (this.length + t > this.capacity) this.grow(this.length + t);
    runInPlace(writeSeqOp, [k], { at: this.length, capacity: this.capacity }, [this.k]);
    runInPlace(writeSeqOp, [v], { at: this.length, capacity: this.capacity }, [this.v]);
    this.length += t;
  }

  private grow(needed: number): void {
    let capacity = this.capacity;
    while (capacity < needed) capacity *= 2;
    capacity = Math.ceil(capacity / this.pageSize) * this.pageSize;
    for (const key of ['k', 'v'] as const) {
      const old = this[key];
      const next = this.allocate(capacity);
      const valid = slice(old, 2, 0, this.length).contiguous();
      runInPlace(writeSeqOp, [valid], { at: 0, capacity }, [next]);
      valid.dispose();
      old.dispose();
      this[key] = next;
    }
  }

  /** Forgets every position (keeps the capacity). */
  reset(): void {
    this.length = 0;
  }

  dispose(): void {
    this.k.dispose();
    this.v.dispose();
  }
}
