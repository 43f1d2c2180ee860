import {
  cat,
  checkOptions,
  cpuIndexer,
  type Device,
  defineOp,
  entry1d,
  grid1d,
  isDirect,
  MAX_RANK,
  normalizeAxis,
  slice,
  storageBindings,
  stridedIndexFn,
  stridedUniforms,
  type Tensor,
  tensor,
  Uniforms,
} from '@tessera/tensor-webgpu';
import { type RopeConfig, ropeTables } from './frequencies.js';
import { checkPosition, type RopeParams } from './op-params.js';
import { ropeWasm } from './wasm.js';

/**
 * How dimensions pair up for rotation — a wrong choice silently breaks loaded weights:
 * - `half`: dimension i pairs with i + d/2 (`rotate_half`; GPT-NeoX, Hugging Face Llama);
 * - `interleaved`: 2i pairs with 2i + 1 (GPT-J, Meta's original Llama checkpoints).
 */
export type RopeConvention = 'half' | 'interleaved';

/** Element d of a row: its partner, and the sign of the partner's term (−1: x·cos − partner·sin). */
function partnerWgsl(convention: RopeConvention): string {
  return convention === 'half'
    ? `let h = P.rotary / 2u;
    let first = d < h;
    let partner = select(d - h, d + h, first);
    let sign = select(1.0, -1.0, first);
    let f = d % h;`
    : `let even = d % 2u == 0u;
    let partner = select(d - 1u, d + 1u, even);
    let sign = select(1.0, -1.0, even);
    let f = d / 2u;`;
}

// x is read through its strides (heads split from a projection by a transposed view need no
// copy); the tables and positions arrive contiguous.
const ropeOp = defineOp<RopeParams>({
  name: 'rope',
  stridedInputs: [true, false, false, false],
  outputs: ([x, cos, , positions], p) => {
    const dim = x!.shape[x!.shape.length - 1]!;
    if (p.rotary > dim || p.rotary % 2 !== 0)
      throw new RangeError(
        `rope: rotary dims ${p.rotary} must be even and at most the last dimension ${dim}`,
      );
    if (cos!.shape[1] !== p.rotary / 2)
      throw new RangeError(
        `rope: tables have ${cos!.shape[1]} frequencies, the rotation needs ${p.rotary / 2}`,
      );
    if (positions!.dtype !== 'i32')
      throw new TypeError(`rope: positions must be i32, got ${positions!.dtype}`);
    return [{ shape: x!.shape, dtype: x!.dtype }];
  },
  wgsl: ([x, cos], _o, p, info) => {
    const dim = x!.shape[x!.shape.length - 1]!;
    const n = x!.shape.reduce((a, b) => a * b, 1);
    const rank = x!.shape.length;
    const direct = isDirect(x!, x!.shape);
    const u = new Uniforms()
      .u32('n', n)
      .u32s('shape', x!.shape, MAX_RANK)
      .u32('dim', dim)
      .u32('rotary', p.rotary)
      .u32('seq', p.seqLen)
      .u32('inner', p.innerRows)
      .u32('batchRows', p.batchRows)
      .u32('posStride', p.posStride)
      .u32('half', cos!.shape[1]!)
      .u32('maxPos', cos!.shape[0]!)
      .f32('dir', p.inverse ? -1 : 1);
    stridedUniforms(u, 'x', x!, rank);
    const t = x!.dtype === 'f16' ? 'f16' : 'f32';
    const at = (i: string) => (direct ? i : `at_x(${i})`);
    return {
      key: `rope:${p.convention}:${x!.dtype}:${direct ? 'd' : `r${rank}`}`,
      uniforms: u,
      workgroups: grid1d(n, info),
      code: () =>
        `${t === 'f16' ? 'enable f16;\n' : ''}${u.declaration(5)}${storageBindings(
          [
            ['x', t],
            ['cosT', 'f32'],
            ['sinT', 'f32'],
            ['pos', 'i32'],
          ],
          [['y', t]],
        )}${direct ? '' : stridedIndexFn('x', rank)}${entry1d(`  if (i >= P.n) { return; }
  let d = i % P.dim;
  if (d >= P.rotary) { y[i] = x[${at('i')}]; return; }
  let row = i / P.dim;
  let s = (row / P.inner) % P.seq;
  let p = u32(clamp(pos[(row / P.batchRows) * P.posStride + s], 0, i32(P.maxPos) - 1));
  ${partnerWgsl(p.convention)}
  let c = cosT[p * P.half + f];
  let sn = sinT[p * P.half + f] * P.dir;
  y[i] = ${t}(f32(x[${at('i')}]) * c + sign * f32(x[${at('row * P.dim + partner')}]) * sn);`)}`,
    };
  },
  cpu: ([x, cos, sin, positions], [y], p) => {
    const dim = x!.shape[x!.shape.length - 1]!;
    const half = cos!.shape[1]!;
    const h = p.rotary / 2;
    const dir = p.inverse ? -1 : 1;
    const at = cpuIndexer(x!, x!.shape);
    for (let i = 0; i < y!.data.length; i++) {
      const d = i % dim;
      if (d >= p.rotary) {
        y!.data[i] = x!.data[at(i)]!;
        continue;
      }
      const row = Math.floor(i / dim);
      const s = Math.floor(row / p.innerRows) % p.seqLen;
      const pos = positions!.data[Math.floor(row / p.batchRows) * p.posStride + s]!;
      checkPosition(pos, cos!.shape[0]!);
      const [partner, sign, f] =
        p.convention === 'half'
          ? d < h
            ? [d + h, -1, d]
            : [d - h, 1, d - h]
          : d % 2 === 0
            ? [d + 1, -1, d / 2]
            : [d - 1, 1, (d - 1) / 2];
      const c = cos!.data[pos * half + f]!;
      const sn = sin!.data[pos * half + f]! * dir;
      y!.data[i] = x!.data[at(i)]! * c + sign * x!.data[at(row * dim + partner)]! * sn;
    }
  },
  wasm: (inputs, [y], p, context) => ropeWasm(inputs, y!, p, context),
  // A rotation's adjoint is the rotation by the opposite angle.
  backward: ([g], { inputs: [, cos, sin, positions], params }) => [
    rotate([g!, cos!, sin!, positions!], { ...params, inverse: !params.inverse }),
    null,
    null,
    null,
  ],
});

function rotate(inputs: Tensor[], params: RopeParams): Tensor {
  return ropeOp(inputs, params)[0]!;
}

/** Options of `Rope.apply`. */
export interface RopeApplyOptions {
  /** Position of the first element of the sequence (KV-cache decoding). Default 0. */
  offset?: number;
  /** Explicit i32 positions: `[seq]`, or `[batch, seq]` with one row per index of axis 0. */
  positions?: Tensor;
  /** The sequence axis. Default −2 (`[batch, heads, seq, dim]`). */
  seqAxis?: number;
}

export interface RopeOptions extends RopeConfig {
  convention?: RopeConvention;
  /** Positions the tables cover (the longest sequence, offsets included). */
  maxPositions: number;
  device?: Device;
}

/**
 * Rotary position embedding, with its tables uploaded once: `rope.apply(q, { offset })` rotates
 * a [..., seq, dim] tensor (sequence on axis −2 by default) by each position's angles.
 * `offset` shifts positions for KV-cache decoding; `positions` (i32) sets them explicitly.
 */
export class Rope {
  readonly cos: Tensor;
  readonly sin: Tensor;
  readonly convention: RopeConvention;

  constructor(readonly options: RopeOptions) {
    checkOptions('Rope', options, [
      'dim',
      'theta',
      'scaling',
      'convention',
      'maxPositions',
      'device',
    ]);
    const convention = options.convention ?? 'half';
    if (convention !== 'half' && convention !== 'interleaved') {
      throw new TypeError(
        `rope: convention must be 'half' or 'interleaved', got ${JSON.stringify(convention)}`,
      );
    }
    this.convention = convention;
    const { dim, theta, scaling } = options;
    const { cos, sin } = ropeTables({ dim, theta, scaling }, options.maxPositions);
    const half = options.dim / 2;
    this.cos = tensor(cos, { shape: [options.maxPositions, half], device: options.device });
    this.sin = tensor(sin, { shape: [options.maxPositions, half], device: options.device });
  }

  /**
   * Rotates `x` [..., seq, ..., dim] (sequence on `seqAxis`, default −2): the first
   * `options.dim` dims of the last axis turn by each position's angles, the rest pass through.
   * Positions are `offset`, `offset + 1`, … (default 0) unless `positions` (i32) gives them:
   * `[seq]` for every row alike, or `[x.shape[0], seq]` for each row of axis 0 at its own
   * positions (rows of a batch decoding at different lengths). Differentiable in `x`.
   * Throws on unknown options, a sequence past `maxPositions`, or positions of the wrong shape.
   */
  apply(x: Tensor, opts: RopeApplyOptions = {}): Tensor {
    checkOptions('rope.apply', opts, ['offset', 'positions', 'seqAxis']);
    const seqAxis = normalizeAxis(opts.seqAxis ?? -2, x.rank, 'rope');
    if (seqAxis === x.rank - 1)
      throw new RangeError('rope: the sequence axis cannot be the last (feature) axis');
    const seqLen = x.shape[seqAxis]!;
    const innerRows = x.shape.slice(seqAxis + 1, -1).reduce((a, b) => a * b, 1);
    const offset = opts.offset ?? 0;
    if (!opts.positions && offset + seqLen > this.options.maxPositions) {
      throw new RangeError(
        `rope: positions ${offset}..${offset + seqLen - 1} exceed maxPositions ${this.options.maxPositions}`,
      );
    }
    const positions =
      opts.positions ??
      tensor(
        Int32Array.from({ length: seqLen }, (_, i) => offset + i),
        { device: x.device },
      );
    const perRow = positions.rank === 2;
    const shapeOk = perRow
      ? seqAxis > 0 && positions.shape[0] === x.shape[0] && positions.shape[1] === seqLen
      : positions.rank === 1 && positions.size === seqLen;
    if (!shapeOk)
      throw new RangeError(
        `rope: positions must be [${seqLen}] or [${x.shape[0]}, ${seqLen}] (one row per index of axis 0, sequence not on axis 0), got [${positions.shape.join(', ')}]`,
      );
    const y = ropeOp([x, this.cos, this.sin, positions], {
      convention: this.convention,
      rotary: this.options.dim,
      seqLen,
      innerRows,
      batchRows: x.shape.slice(1, -1).reduce((a, b) => a * b, 1),
      posStride: perRow ? seqLen : 0,
      inverse: false,
    })[0]!;
    if (!opts.positions && !y.node) positions.dispose();
    return y;
  }

  /** Frees the tables. */
  dispose(): void {
    this.cos.dispose();
    this.sin.dispose();
  }
}

/**
 * Axial 2-D RoPE for vision (patch grids): the first half of the rotated dims turn with the
 * patch's row, the second half with its column. `x` is [..., rows·cols, dim] in row-major patch
 * order; `dim` is split in two equal rotary halves, each with its own frequencies.
 */
export class Rope2D {
  private readonly axis: Rope;
  /** i32 [rows·cols]: each patch's row and column, uploaded once. */
  private readonly rowPos: Tensor;
  private readonly colPos: Tensor;

  constructor(
    readonly options: {
      dim: number;
      theta?: number;
      rows: number;
      cols: number;
      convention?: RopeConvention;
      device?: Device;
    },
  ) {
    checkOptions('Rope2D', options, ['dim', 'theta', 'rows', 'cols', 'convention', 'device']);
    if (options.dim % 4 !== 0)
      throw new RangeError(`rope2d: dim must be a multiple of 4, got ${options.dim}`);
    const { rows, cols, device } = options;
    this.axis = new Rope({
      dim: options.dim / 2,
      theta: options.theta,
      convention: options.convention,
      maxPositions: Math.max(rows, cols),
      device,
    });
    const seq = rows * cols;
    this.rowPos = tensor(
      Int32Array.from({ length: seq }, (_, i) => Math.floor(i / cols)),
      { device },
    );
    this.colPos = tensor(
      Int32Array.from({ length: seq }, (_, i) => i % cols),
      { device },
    );
  }

  apply(x: Tensor): Tensor {
    const { rows, cols, dim } = this.options;
    const seq = x.shape[x.rank - 2]!;
    if (seq !== rows * cols)
      throw new RangeError(`rope2d: sequence ${seq} is not rows·cols = ${rows * cols}`);
    // Rotate the two halves separately and put them back side by side.
    const first = this.axis.apply(slice(x, -1, 0, dim / 2), { positions: this.rowPos });
    const second = this.axis.apply(slice(x, -1, dim / 2, dim), { positions: this.colPos });
    return cat([first, second, ...(x.shape[x.rank - 1]! > dim ? [slice(x, -1, dim)] : [])], -1);
  }

  /** Frees the tables and positions. */
  dispose(): void {
    this.axis.dispose();
    this.rowPos.dispose();
    this.colPos.dispose();
  }
}
