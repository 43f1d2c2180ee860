import type { TensorLayout } from '../backend.js';
import { isFloat, wgslType } from '../dtype.js';
import { storageBindings } from '../kernel.js';
import { defineOp, releaseTemporaries } from '../op.js';
import { broadcastShapes, formatShape, sizeOf } from '../shape.js';
import { alignedStrides, MAX_RANK } from '../strided.js';
import type { Tensor } from '../tensor.js';
import { laneRead, Uniforms } from '../uniforms.js';
import { sumToShape } from './reduce.js';
import { reshape, transpose } from './view.js';

/** Output tile per workgroup (TILE × TILE), reduction step BK, and per-thread micro-tile. */
const TILE = 64;
const BK = 16;
const MICRO = 4;

interface Dims {
  batch: number[];
  m: number;
  k: number;
  n: number;
}

function dims(a: TensorLayout, b: TensorLayout): Dims {
  if (a.shape.length < 2 || b.shape.length < 2)
    throw new RangeError('matmul: kernel inputs must be at least 2-D');
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) {
    throw new RangeError(
      `matmul: inner dimensions differ (${formatShape(a.shape)} @ ${formatShape(b.shape)}: ${k} vs ${k2})`,
    );
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul');
  return { batch, m, k, n };
}

/** Uniforms that locate an operand: offset, batch strides (broadcast-aware) and the two matrix strides. */
function operandUniforms(u: Uniforms, name: string, t: TensorLayout, batchRank: number): void {
  const r = t.shape.length;
  const batchLayout = { ...t, shape: t.shape.slice(0, -2), strides: t.strides.slice(0, -2) };
  u.u32(`${name}_off`, t.offset)
    .u32(`${name}_s0`, t.shape[r - 2] === 1 ? 0 : t.strides[r - 2]!)
    .u32(`${name}_s1`, t.shape[r - 1] === 1 ? 0 : t.strides[r - 1]!)
    .u32s(`${name}_bstr`, alignedStrides(batchLayout, batchRank), MAX_RANK);
}

function batchOffsetFn(name: string): string {
  return `fn base_${name}(bi: u32) -> u32 {
  var rem = bi;
  var off = P.${name}_off;
  for (var d = i32(P.brank) - 1; d >= 0; d--) {
    let dim = ${laneRead('bshape', 'u32(d)')};
    off += (rem % dim) * ${laneRead(`${name}_bstr`, 'u32(d)')};
    rem /= dim;
  }
  return off;
}
`;
}

/** Batched, broadcasting matmul over strided operands (transposes are free). Tiled 64×64, 4×4 per thread. */
const matmulOp = defineOp<undefined>({
  name: 'matmul',
  stridedInputs: true,
  outputs: ([a, b]) => {
    if (a!.dtype !== b!.dtype)
      throw new TypeError(`matmul: dtypes differ (${a!.dtype} and ${b!.dtype})`);
    if (!isFloat(a!.dtype))
      throw new TypeError(`matmul: expected floating-point tensors, got ${a!.dtype}`);
    const { batch, m, n } = dims(a!, b!);
    return [{ shape: [...batch, m, n], dtype: a!.dtype }];
  },
  wgsl: ([a, b]) => {
    const { batch, m, k, n } = dims(a!, b!);
    if (batch.length > MAX_RANK)
      throw new RangeError(`matmul: batch rank ${batch.length} exceeds ${MAX_RANK}`);
    const u = new Uniforms()
      .u32('m', m)
      .u32('n', n)
      .u32('k', k)
      .u32('brank', batch.length)
      .u32s('bshape', batch, MAX_RANK);
    operandUniforms(u, 'a', a!, batch.length);
    operandUniforms(u, 'b', b!, batch.length);
    const t = wgslType(a!.dtype);
    const f16 = t === 'f16';
    const code = () => `${f16 ? 'enable f16;\n' : ''}${u.declaration(3)}${storageBindings(
      [
        ['A', t],
        ['B', t],
      ],
      [['C', t]],
    )}
${batchOffsetFn('a')}${batchOffsetFn('b')}
var<workgroup> As: array<f32, ${TILE * BK}>;
var<workgroup> Bs: array<f32, ${BK * TILE}>;
@compute @workgroup_size(${TILE / MICRO}, ${TILE / MICRO})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let bi = wid.z;
  let baseA = base_a(bi);
  let baseB = base_b(bi);
  let row0 = wid.y * ${TILE}u;
  let col0 = wid.x * ${TILE}u;
  let tid = lid.y * ${TILE / MICRO}u + lid.x;
  var acc: array<array<f32, ${MICRO}>, ${MICRO}>;
  for (var k0 = 0u; k0 < P.k; k0 += ${BK}u) {
    // 256 threads load the 64x16 A tile and the 16x64 B tile, 4 elements each.
    for (var e = 0u; e < ${(TILE * BK) / 256}u; e++) {
      let idx = tid + e * 256u;
      let ar = idx / ${BK}u;
      let ac = idx % ${BK}u;
      let gr = row0 + ar;
      let gk = k0 + ac;
      As[idx] = select(0.0, f32(A[baseA + gr * P.a_s0 + gk * P.a_s1]), gr < P.m && gk < P.k);
      let br = idx / ${TILE}u;
      let bc = idx % ${TILE}u;
      let bk = k0 + br;
      let gc = col0 + bc;
      Bs[idx] = select(0.0, f32(B[baseB + bk * P.b_s0 + gc * P.b_s1]), bk < P.k && gc < P.n);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      var av: array<f32, ${MICRO}>;
      var bv: array<f32, ${MICRO}>;
      for (var i = 0u; i < ${MICRO}u; i++) {
        av[i] = As[(lid.y * ${MICRO}u + i) * ${BK}u + kk];
        bv[i] = Bs[kk * ${TILE}u + lid.x * ${MICRO}u + i];
      }
      for (var i = 0u; i < ${MICRO}u; i++) {
        for (var j = 0u; j < ${MICRO}u; j++) {
          acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  let cbase = bi * P.m * P.n;
  for (var i = 0u; i < ${MICRO}u; i++) {
    let r = row0 + lid.y * ${MICRO}u + i;
    for (var j = 0u; j < ${MICRO}u; j++) {
      let c = col0 + lid.x * ${MICRO}u + j;
      if (r < P.m && c < P.n) { C[cbase + r * P.n + c] = ${t}(acc[i][j]); }
    }
  }
}
`;
    return {
      key: `matmul:${a!.dtype}`,
      code,
      uniforms: u,
      workgroups: [Math.ceil(n / TILE), Math.ceil(m / TILE), Math.max(1, sizeOf(batch))],
    };
  },
  cpu: ([a, b], [c]) => {
    const { batch, m, k, n } = dims(a!, b!);
    const rank = batch.length;
    const aB = alignedStrides(
      { ...a!, shape: a!.shape.slice(0, -2), strides: a!.strides.slice(0, -2) },
      rank,
    );
    const bB = alignedStrides(
      { ...b!, shape: b!.shape.slice(0, -2), strides: b!.strides.slice(0, -2) },
      rank,
    );
    const ra = a!.shape.length;
    const rb = b!.shape.length;
    const [as0, as1] = [a!.strides[ra - 2]!, a!.strides[ra - 1]!];
    const [bs0, bs1] = [b!.strides[rb - 2]!, b!.strides[rb - 1]!];
    const batches = sizeOf(batch);
    const row = new Float64Array(n);
    for (let bi = 0; bi < batches; bi++) {
      let rem = bi;
      let offA = a!.offset;
      let offB = b!.offset;
      for (let d = rank - 1; d >= 0; d--) {
        const idx = rem % batch[d]!;
        rem = Math.floor(rem / batch[d]!);
        offA += idx * aB[d]!;
        offB += idx * bB[d]!;
      }
      for (let i = 0; i < m; i++) {
        row.fill(0);
        for (let p = 0; p < k; p++) {
          const av = a!.data[offA + i * as0 + p * as1]!;
          const bRow = offB + p * bs0;
          for (let j = 0; j < n; j++) row[j]! += av * b!.data[bRow + j * bs1]!;
        }
        c!.data.set(row, bi * m * n + i * n);
      }
    }
  },
  backward: ([g], { inputs: [a, b] }) => {
    const ga = matmul(g!, transpose(b!));
    const gb = matmul(transpose(a!), g!);
    return [sumToShape(ga, a!.shape), sumToShape(gb, b!.shape)];
  },
});

/**
 * Matrix product with NumPy/PyTorch semantics: batch dimensions broadcast, 1-D operands are
 * promoted to a row (left) or a column (right) vector and the added dimension is removed.
 * Transposed operands (views from `transpose`) are read in place, without a copy.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  a.assertAlive('matmul');
  b.assertAlive('matmul');
  if (a.rank === 0 || b.rank === 0)
    throw new RangeError(
      `matmul: operands must be at least 1-D (got ${formatShape(a.shape)} and ${formatShape(b.shape)})`,
    );
  const a2 = a.rank === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.rank === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  const c = matmulOp([a2, b2], undefined)[0]!;
  if (a2 === a && b2 === b) return c;
  const shape = [...c.shape];
  if (b.rank === 1) shape.pop();
  if (a.rank === 1) shape.splice(shape.length - (b.rank === 1 ? 1 : 2), 1);
  const out = reshape(c, shape);
  releaseTemporaries(out, c, ...[a2, b2].filter((t, i) => t !== [a, b][i]));
  return out;
}
