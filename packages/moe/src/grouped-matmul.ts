import {
  checkOptions,
  defineOp,
  type Op,
  storageBindings,
  type Tensor,
  type TensorLayout,
  Uniforms,
} from '@tessera/tensor-webgpu';

// One product per expert over its own rows, all in one dispatch. Rows arrive in expert order:
// expert e owns rows offsets[e]..offsets[e+1] (a `DispatchPlan`'s offsets). The grid is a list
// of 64-row tiles, each inside one expert's rows: tile j of the grid walks the experts' tile
// counts to find its expert, so segments need no padding and no row is computed twice. The grid
// is sized for the worst case (⌈R/64⌉ + E tiles); the tiles left over zero the unused rows.

/**
 * Rows of a workgroup's output tile (its columns are 64 too): 16 × 8 threads, each computing
 * 8 rows (8 apart) × 4 columns (16 apart).
 */
const TILE = 64;

interface GroupedParams {
  /** `true`: y = x · W[e]ᵀ with W [E, out, in] (Linear's layout); `false`: y = x · W[e], W [E, in, out]. */
  transposed: boolean;
}

/** [in, out] of each expert's matrix. */
function sides(w: TensorLayout, transposed: boolean): [number, number] {
  const [, a, b] = w.shape as [number, number, number];
  return transposed ? [b, a] : [a, b];
}

function checkOffsets(op: string, offsets: TensorLayout, experts: number): void {
  if (offsets.dtype !== 'i32' || offsets.shape.join() !== `${experts + 1}`)
    throw new TypeError(
      `${op}: offsets must be i32 [${experts + 1}] (experts + 1), got ${offsets.dtype} [${offsets.shape.join(', ')}]`,
    );
}

function checkF32(op: string, name: string, t: TensorLayout, rank: number): void {
  if (t.dtype !== 'f32') throw new TypeError(`${op}: ${name} must be f32, got ${t.dtype}`);
  if (t.shape.length !== rank)
    throw new RangeError(`${op}: ${name} must be ${rank}-D, got [${t.shape.join(', ')}]`);
}

// subgroupAll's result is the same on every lane of a subgroup, so the branch on it is
// subgroup-uniform; WGSL's analysis cannot see that, hence the diagnostic is turned off.
const SUBGROUP_HEADER = 'enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n';

/**
 * The grouped matmul kernel. Like the core's `register` matmul, it keeps every output in
 * registers and reads straight from memory (no workgroup memory, no barriers: on CPU
 * implementations of WebGPU those are ordinary memory and coroutine switches), and with
 * subgroups the 8 X values a thread needs at step k are loaded once per subgroup and handed
 * round with subgroupBroadcast (a load of one address by every lane is a gather on a CPU).
 */
function groupedMatmulWgsl(u: Uniforms, subgroups: boolean): string {
  const plainLoop = `for (var k = 0u; k < P.inner; k++) {
      let kw = k * P.wk;
      let b = vec4<f32>(W[w0 + kw], W[w1 + kw], W[w2 + kw], W[w3 + kw]);
      for (var i = 0u; i < 8u; i++) { acc[i] = fma(vec4<f32>(X[xRow[i] + k]), b, acc[i]); }
    }`;
  const sgLoop = `let lanesShareRow = subgroupAll(subgroupBroadcast(lid.y, 0u) == lid.y);
  if (sg_size >= 8u && lanesShareRow) {
    let myRow = xRow[sg_id % 8u];
    for (var k = 0u; k < P.inner; k++) {
      let kw = k * P.wk;
      let b = vec4<f32>(W[w0 + kw], W[w1 + kw], W[w2 + kw], W[w3 + kw]);
      let a = X[myRow + k];
${Array.from({ length: 8 }, (_, i) => `      acc[${i}] = fma(vec4<f32>(subgroupBroadcast(a, ${i}u)), b, acc[${i}]);`).join('\n')}
    }
  } else {
    ${plainLoop}
  }`;
  const sgArgs = subgroups
    ? ', @builtin(subgroup_size) sg_size: u32, @builtin(subgroup_invocation_id) sg_id: u32'
    : '';
  return `${subgroups ? SUBGROUP_HEADER : ''}${u.declaration(4)}${storageBindings(
    [
      ['X', 'f32'],
      ['W', 'f32'],
      ['offsets', 'i32'],
    ],
    [['Y', 'f32']],
  )}
@compute @workgroup_size(16, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>${sgArgs}) {
  // This workgroup's tile: the wid.y-th of the experts' row tiles, laid end to end.
  var tile = wid.y;
  var e = P.experts;
  var rowStart = 0u;
  var rowEnd = 0u;
  for (var ex = 0u; ex < P.experts; ex++) {
    let s = u32(offsets[ex]);
    let t = u32(offsets[ex + 1u]);
    let n = (t - s + ${TILE - 1}u) / ${TILE}u;
    if (tile < n) {
      e = ex;
      rowStart = s + tile * ${TILE}u;
      rowEnd = t;
      break;
    }
    tile -= n;
  }
  let c0 = wid.x * ${TILE}u + lid.x;
  if (e == P.experts) {
    // A leftover tile: zero its share of the rows past the last expert's.
    let r0 = u32(offsets[P.experts]) + tile * ${TILE}u + lid.y;
    for (var i = 0u; i < 8u; i++) {
      for (var j = 0u; j < 4u; j++) {
        let r = r0 + i * 8u;
        let c = c0 + j * 16u;
        if (r < P.rows && c < P.out) { Y[r * P.out + c] = 0.0; }
      }
    }
    return;
  }
  // Rows r0 + 8i and columns c0 + 16j; out-of-range ones are clamped to the last (computed,
  // never stored), so the inner loop needs no bounds checks.
  let r0 = rowStart + lid.y;
  var xRow: array<u32, 8>;
  for (var i = 0u; i < 8u; i++) { xRow[i] = min(r0 + i * 8u, rowEnd - 1u) * P.inner; }
  let wBase = e * P.inner * P.out;
  let w0 = wBase + min(c0, P.out - 1u) * P.wc;
  let w1 = wBase + min(c0 + 16u, P.out - 1u) * P.wc;
  let w2 = wBase + min(c0 + 32u, P.out - 1u) * P.wc;
  let w3 = wBase + min(c0 + 48u, P.out - 1u) * P.wc;
  var acc: array<vec4<f32>, 8>;
  ${subgroups ? sgLoop : plainLoop}
  for (var i = 0u; i < 8u; i++) {
    let r = r0 + i * 8u;
    for (var j = 0u; j < 4u; j++) {
      let c = c0 + j * 16u;
      if (r < rowEnd && c < P.out) { Y[r * P.out + c] = acc[i][j]; }
    }
  }
}
`;
}

const GRID_LIMIT = 65535;

const groupedMatmulOp: Op<GroupedParams> = defineOp<GroupedParams>({
  name: 'moe_grouped_matmul',
  outputs: ([x, w, offsets], { transposed }) => {
    checkF32('groupedMatmul', 'x', x!, 2);
    checkF32('groupedMatmul', 'weight', w!, 3);
    checkOffsets('groupedMatmul', offsets!, w!.shape[0]!);
    const [inner, out] = sides(w!, transposed);
    if (x!.shape[1] !== inner)
      throw new RangeError(
        `groupedMatmul: x [${x!.shape.join(', ')}] has ${x!.shape[1]} columns, each expert's matrix takes ${inner} (weight [${w!.shape.join(', ')}]${transposed ? ', transposed' : ''})`,
      );
    return [{ shape: [x!.shape[0]!, out], dtype: 'f32' }];
  },
  wgsl: ([x, w], _o, { transposed }, info) => {
    const [rows, inner] = x!.shape as [number, number];
    const [experts] = w!.shape as [number];
    const [, out] = sides(w!, transposed);
    const tiles = Math.ceil(rows / TILE) + experts;
    if (tiles > GRID_LIMIT)
      throw new RangeError(
        `groupedMatmul: ${rows} rows and ${experts} experts need ${tiles} row tiles, over WebGPU's ${GRID_LIMIT}`,
      );
    const u = new Uniforms()
      .u32('rows', rows)
      .u32('inner', inner)
      .u32('out', out)
      .u32('experts', experts)
      // Strides of W[e] along the inner dimension and along the output columns.
      .u32('wk', transposed ? 1 : out)
      .u32('wc', transposed ? inner : 1);
    return {
      key: `moe_grouped_matmul:${transposed ? 't' : 'n'}${info.subgroups ? ':sg' : ''}`,
      uniforms: u,
      workgroups: [Math.ceil(out / TILE), tiles, 1],
      code: () => groupedMatmulWgsl(u, info.subgroups),
    };
  },
  cpu: ([x, w, offsets], [y], { transposed }) => {
    const [rows, inner] = x!.shape as [number, number];
    const experts = w!.shape[0]!;
    const [, out] = sides(w!, transposed);
    const [wk, wc] = transposed ? [1, inner] : [out, 1];
    y!.data.fill(0);
    const acc = new Float64Array(out);
    for (let e = 0; e < experts; e++) {
      const base = e * inner * out;
      for (let r = offsets!.data[e]!; r < offsets!.data[e + 1]! && r < rows; r++) {
        acc.fill(0);
        for (let k = 0; k < inner; k++) {
          const xv = x!.data[r * inner + k]!;
          for (let c = 0; c < out; c++) acc[c]! += xv * w!.data[base + k * wk + c * wc]!;
        }
        y!.data.set(acc, r * out);
      }
    }
  },
  backward: ([g], { inputs: [x, w, offsets], params: { transposed } }): (Tensor | null)[] => [
    x!.requiresGrad ? groupedMatmulOp([g!, w!, offsets!], { transposed: !transposed })[0]! : null,
    w!.requiresGrad
      ? groupedOuterOp(transposed ? [g!, x!, offsets!] : [x!, g!, offsets!], undefined)[0]!
      : null,
    null,
  ],
});

/** Per expert, Σ over its rows of a[r]ᵀ · b[r] → [E, P, Q]: the weight gradient of a grouped matmul. */
const groupedOuterOp = defineOp({
  name: 'moe_grouped_outer',
  outputs: ([a, b, offsets]) => {
    checkF32('groupedOuter', 'a', a!, 2);
    checkF32('groupedOuter', 'b', b!, 2);
    if (a!.shape[0] !== b!.shape[0])
      throw new RangeError(`groupedOuter: row counts differ (${a!.shape[0]} and ${b!.shape[0]})`);
    const experts = offsets!.shape[0]! - 1;
    checkOffsets('groupedOuter', offsets!, experts);
    return [{ shape: [experts, a!.shape[1]!, b!.shape[1]!], dtype: 'f32' }];
  },
  wgsl: ([a, b, offsets], _o, _p, info) => {
    const p = a!.shape[1]!;
    const q = b!.shape[1]!;
    const experts = offsets!.shape[0]! - 1;
    const u = new Uniforms().u32('rows', a!.shape[0]!).u32('p', p).u32('q', q);
    return {
      key: `moe_grouped_outer${info.subgroups ? ':sg' : ''}`,
      uniforms: u,
      workgroups: [Math.ceil(q / TILE), Math.ceil(p / TILE), experts],
      code: () => groupedOuterWgsl(u, info.subgroups),
    };
  },
  cpu: ([a, b, offsets], [g]) => {
    const [rows, p] = a!.shape as [number, number];
    const q = b!.shape[1]!;
    const experts = offsets!.shape[0]! - 1;
    const acc = new Float64Array(p * q);
    for (let e = 0; e < experts; e++) {
      acc.fill(0);
      for (let r = offsets!.data[e]!; r < offsets!.data[e + 1]! && r < rows; r++) {
        for (let i = 0; i < p; i++) {
          const av = a!.data[r * p + i]!;
          for (let j = 0; j < q; j++) acc[i * q + j]! += av * b!.data[r * q + j]!;
        }
      }
      g!.data.set(acc, e * p * q);
    }
  },
});

/**
 * The weight-gradient kernel: a workgroup per 64 × 64 tile of one expert's P × Q result, each
 * thread 8 × 4 of it in registers, looping over the expert's rows; with subgroups, the 8 A
 * values of a row are loaded once per subgroup and broadcast, as in `groupedMatmulWgsl`.
 */
function groupedOuterWgsl(u: Uniforms, subgroups: boolean): string {
  const plainLoop = `for (var r = u32(offsets[e]); r < end; r++) {
      let bq = r * P.q;
      let b = vec4<f32>(B[bq + q0c], B[bq + q1c], B[bq + q2c], B[bq + q3c]);
      let ap = r * P.p;
      for (var i = 0u; i < 8u; i++) { acc[i] = fma(vec4<f32>(A[ap + pRow[i]]), b, acc[i]); }
    }`;
  const sgLoop = `let lanesShareRow = subgroupAll(subgroupBroadcast(lid.y, 0u) == lid.y);
  if (sg_size >= 8u && lanesShareRow) {
    let myP = pRow[sg_id % 8u];
    for (var r = u32(offsets[e]); r < end; r++) {
      let bq = r * P.q;
      let b = vec4<f32>(B[bq + q0c], B[bq + q1c], B[bq + q2c], B[bq + q3c]);
      let a = A[r * P.p + myP];
${Array.from({ length: 8 }, (_, i) => `      acc[${i}] = fma(vec4<f32>(subgroupBroadcast(a, ${i}u)), b, acc[${i}]);`).join('\n')}
    }
  } else {
    ${plainLoop}
  }`;
  const sgArgs = subgroups
    ? ', @builtin(subgroup_size) sg_size: u32, @builtin(subgroup_invocation_id) sg_id: u32'
    : '';
  return `${subgroups ? SUBGROUP_HEADER : ''}${u.declaration(4)}${storageBindings(
    [
      ['A', 'f32'],
      ['B', 'f32'],
      ['offsets', 'i32'],
    ],
    [['G', 'f32']],
  )}
@compute @workgroup_size(16, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>${sgArgs}) {
  let e = wid.z;
  let p0 = wid.y * ${TILE}u + lid.y;
  let q0 = wid.x * ${TILE}u + lid.x;
  var pRow: array<u32, 8>;
  for (var i = 0u; i < 8u; i++) { pRow[i] = min(p0 + i * 8u, P.p - 1u); }
  let q0c = min(q0, P.q - 1u);
  let q1c = min(q0 + 16u, P.q - 1u);
  let q2c = min(q0 + 32u, P.q - 1u);
  let q3c = min(q0 + 48u, P.q - 1u);
  var acc: array<vec4<f32>, 8>;
  let end = min(u32(offsets[e + 1u]), P.rows);
  ${subgroups ? sgLoop : plainLoop}
  let base = e * P.p * P.q;
  for (var i = 0u; i < 8u; i++) {
    let pp = p0 + i * 8u;
    for (var j = 0u; j < 4u; j++) {
      let qq = q0 + j * 16u;
      if (pp < P.p && qq < P.q) { G[base + pp * P.q + qq] = acc[i][j]; }
    }
  }
}
`;
}

/** Options of `groupedMatmul`. */
export interface GroupedMatmulOptions {
  /**
   * `true` (default): each expert's matrix is stored [out, in] (Linear's and Hugging Face's
   * layout) and y = x · W[e]ᵀ; `false`: stored [in, out] and y = x · W[e].
   */
  transposed?: boolean;
}

/**
 * One matrix product per expert over that expert's rows, in a single dispatch (a grouped GEMM,
 * as MegaBlocks' and DeepSeek's MoE kernels): for rows offsets[e] ≤ r < offsets[e+1],
 * y[r] = x[r] · W[e]ᵀ. Rows past offsets[E] come out zero. The weights are read in place from
 * one stacked tensor, never copied per expert. Differentiable in `x` and `weight`: the input
 * gradient is the same kernel on the untransposed weights, the weight gradient a grouped sum of
 * outer products, each one dispatch.
 *
 * @param x - [R, in] f32 rows in expert order (`dispatchTokens`)
 * @param weight - [E, out, in] f32 stacked expert matrices ([E, in, out] with `transposed: false`)
 * @param offsets - [E + 1] i32 row offsets (`DispatchPlan.offsets`), non-decreasing, from 0
 * @returns [R, out] f32
 * @throws TypeError - a dtype other than f32 (i32 offsets), offsets of the wrong length, or an
 *   unknown option
 * @throws RangeError - ranks or widths that do not fit, or more row tiles than a dispatch allows
 */
export function groupedMatmul(
  x: Tensor,
  weight: Tensor,
  offsets: Tensor,
  options: GroupedMatmulOptions = {},
): Tensor {
  checkOptions('groupedMatmul', options, ['transposed']);
  return groupedMatmulOp([x, weight, offsets], { transposed: options.transposed ?? true })[0]!;
}
