/**
 * The two WGSL matmul kernels. Both read strided, batch-broadcast operands through the same
 * uniforms (offset, two matrix strides, batch strides) and write a packed [batch, M, N] result.
 *
 * - `tiled`: 64×64 output tiles staged through workgroup memory as vec4s, 4×4 per thread — the
 *   shape that suits real GPUs, where workgroup memory is fast on-chip storage.
 * - `register`: no workgroup memory and no barriers; up to 8×4 outputs per thread with
 *   neighbouring threads on neighbouring columns, fewer when the output has fewer than 128 rows
 *   or 64 columns (a weight gradient of a narrow model is 48×48), so no thread computes rows
 *   that are thrown away. On CPU implementations of WebGPU (lavapipe, SwiftShader)
 *   workgroup memory is ordinary memory and every barrier is a coroutine switch, and this kernel
 *   runs 1.5–2× faster than the tiled one (see bench/).
 */
import { laneRead, type Uniforms } from '../uniforms.js';

export type MatmulKernel = 'tiled' | 'register';

/**
 * What the kernel adds to α·(A@B) before storing (GEMM's epilogue, as in `torch.addmm`):
 * nothing, β·E[column] (a bias row), or β·E[row, column] (a full matrix shaped like the output).
 */
export type Epilogue = 'none' | 'row' | 'full';

/** Outputs per thread: rows × columns (the register kernel shrinks them for small outputs). */
export interface ThreadTile {
  rows: number;
  cols: number;
}

/**
 * The register kernel's thread tile for an m × n output: 16 threads span 16·rows × 16·cols.
 * Every output of at least 128 × 64 shares the 8 × 4 tile (and its pipeline); smaller ones get
 * the tile that covers them with the fewest thrown-away rows and columns.
 */
export function registerTile(m: number, n: number): ThreadTile {
  const fit = (size: number, most: number) => Math.min(most, Math.max(1, Math.ceil(size / 16)));
  return { rows: fit(m, 8), cols: fit(n, 4) };
}

/** Output tile (rows × columns) of one workgroup, for the dispatch grid. */
export function matmulTile(kernel: MatmulKernel, m: number, n: number): [number, number] {
  if (kernel === 'tiled') return [64, 64];
  const { rows, cols } = registerTile(m, n);
  return [16 * rows, 16 * cols];
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

/**
 * Element loaders. When an operand's inner stride is 1 (the common, untransposed case) the key
 * says so and the index drops the multiply, which lets CPU drivers emit plain vector loads.
 */
function loaders(unitA: boolean, unitB: boolean): string {
  const aIndex = unitA ? 'r * P.a_s0 + k' : 'r * P.a_s0 + k * P.a_s1';
  const bIndex = unitB ? 'k * P.b_s0 + c' : 'k * P.b_s0 + c * P.b_s1';
  return `fn loadA(base: u32, r: u32, k: u32) -> f32 {
  return select(0.0, f32(A[base + ${aIndex}]), r < P.m && k < P.k);
}
fn loadB(base: u32, k: u32, c: u32) -> f32 {
  return select(0.0, f32(B[base + ${bIndex}]), k < P.k && c < P.n);
}
`;
}

/** Writes `acc` (a vector of `cols` per row; a scalar when `cols` is 1) through the epilogue. */
function store(
  t: string,
  rows: number,
  cols: number,
  rowStride: string,
  colStride: string,
  epi: Epilogue,
): string {
  const extra = {
    none: '',
    row: ' + P.beta * f32(E[P.e_off + c])',
    full: ' + P.beta * f32(E[P.e_off + at])',
  }[epi];
  return `  let cbase = bi * P.m * P.n;
  for (var i = 0u; i < ${rows}u; i++) {
    let r = r0 + i * ${rowStride};
    for (var j = 0u; j < ${cols}u; j++) {
      let c = c0 + j * ${colStride};
      let at = cbase + r * P.n + c;
      if (r < P.m && c < P.n) { Y[at] = ${t}(P.alpha * ${cols === 1 ? 'acc[i]' : 'acc[i][j]'}${extra}); }
    }
  }
}
`;
}

const BK = 16;

function tiledBody(t: string, epi: Epilogue): string {
  return `var<workgroup> As: array<vec4<f32>, ${BK * 16}>;
var<workgroup> Bs: array<vec4<f32>, ${BK * 16}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let bi = wid.z;
  let baseA = base_a(bi);
  let baseB = base_b(bi);
  let row0 = wid.y * 64u;
  let col0 = wid.x * 64u;
  let tid = lid.y * 16u + lid.x;
  // Each thread owns rows r0..r0+3 and columns c0..c0+3, one vec4 of columns per row.
  let r0 = row0 + lid.y * 4u;
  let c0 = col0 + lid.x * 4u;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < P.k; k0 += ${BK}u) {
    // A is staged transposed (4 rows per vec4), B as is (4 columns per vec4).
    for (var e = tid; e < ${BK * 16}u; e += 256u) {
      let k = k0 + e / 16u;
      let q = (e % 16u) * 4u;
      As[e] = vec4<f32>(loadA(baseA, row0 + q, k), loadA(baseA, row0 + q + 1u, k), loadA(baseA, row0 + q + 2u, k), loadA(baseA, row0 + q + 3u, k));
      Bs[e] = vec4<f32>(loadB(baseB, k, col0 + q), loadB(baseB, k, col0 + q + 1u), loadB(baseB, k, col0 + q + 2u), loadB(baseB, k, col0 + q + 3u));
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk++) {
      let a = As[kk * 16u + lid.y];
      let b = Bs[kk * 16u + lid.x];
      acc[0] = fma(vec4<f32>(a.x), b, acc[0]);
      acc[1] = fma(vec4<f32>(a.y), b, acc[1]);
      acc[2] = fma(vec4<f32>(a.z), b, acc[2]);
      acc[3] = fma(vec4<f32>(a.w), b, acc[3]);
    }
    workgroupBarrier();
  }
${store(t, 4, 4, '1u', '1u', epi)}`;
}

function registerBody(t: string, epi: Epilogue, tile: ThreadTile, subgroups: boolean): string {
  const { rows, cols } = tile;
  const bCols = Array.from({ length: cols }, (_, j) => j);
  const vec = cols === 1 ? 'f32' : `vec${cols}<f32>`;
  const loadB = `let b = ${vec}(${bCols.map((j) => `f32(B[b${j} + k * P.b_s0])`).join(', ')});`;
  const plainLoop = `for (var k = 0u; k < P.k; k++) {
    ${loadB}
    let ka = k * P.a_s1;
    for (var i = 0u; i < ${rows}u; i++) {
      acc[i] = fma(${vec}(f32(A[aRow[i] + ka])), b, acc[i]);
    }
  }`;
  // With subgroups, the ${rows} A values a thread needs at step k are loaded once per subgroup
  // (lane i loads row i) and handed round with subgroupBroadcast: on CPU drivers a load per lane
  // of the same address is a gather, a broadcast a register shuffle. It needs every lane of the
  // subgroup on the same workgroup row, which is checked rather than assumed.
  const sgLoop = `let lanesShareRow = subgroupAll(subgroupBroadcast(lid.y, 0u) == lid.y);
  if (sg_size >= ${rows}u && lanesShareRow) {
    let myRow = aRow[sg_id % ${rows}u];
    for (var k = 0u; k < P.k; k++) {
      ${loadB}
      let a = f32(A[myRow + k * P.a_s1]);
${Array.from({ length: rows }, (_, i) => `      acc[${i}] = fma(${vec}(subgroupBroadcast(a, ${i}u)), b, acc[${i}]);`).join('\n')}
    }
  } else {
    ${plainLoop}
  }`;
  const sgArgs = subgroups
    ? ', @builtin(subgroup_size) sg_size: u32, @builtin(subgroup_invocation_id) sg_id: u32'
    : '';
  return `@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>${sgArgs}) {
  let bi = wid.z;
  let baseA = base_a(bi);
  let baseB = base_b(bi);
  // Rows r0 + 16i (i < ${rows}) and columns c0 + 16j (j < ${cols}): threads next to each other in x
  // read columns next to each other, and all threads of a row of the workgroup share each A load.
  let r0 = wid.y * ${16 * rows}u + lid.y;
  let c0 = wid.x * ${16 * cols}u + lid.x;
  // Rows and columns past the edge are clamped to the last one: they compute values that are
  // never stored, so the k loop needs no bounds checks.
  var aRow: array<u32, ${rows}>;
  for (var i = 0u; i < ${rows}u; i++) { aRow[i] = baseA + min(r0 + i * 16u, P.m - 1u) * P.a_s0; }
${bCols.map((j) => `  let b${j} = baseB + min(c0 + ${16 * j}u, P.n - 1u) * P.b_s1;`).join('\n')}
  var acc: array<${vec}, ${rows}>;
  ${subgroups ? sgLoop : plainLoop}
${store(t, rows, cols, '16u', '16u', epi)}`;
}

// subgroupAll's result is the same on every lane of a subgroup, so the branch on it is
// subgroup-uniform; WGSL's analysis cannot see that, hence the diagnostic is turned off.
const SUBGROUP_HEADER = 'enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n';

/** The WGSL source of a matmul kernel; bindings A, B, (E) read, Y written, then the uniforms P. */
export function matmulWgsl(
  kernel: MatmulKernel,
  t: string,
  u: Uniforms,
  unitA: boolean,
  unitB: boolean,
  epi: Epilogue,
  tile: ThreadTile,
  subgroups = false,
): string {
  const useSubgroups = kernel === 'register' && subgroups;
  const body = kernel === 'tiled' ? tiledBody(t, epi) : registerBody(t, epi, tile, useSubgroups);
  const withE = epi !== 'none';
  return `${t === 'f16' ? 'enable f16;\n' : ''}${useSubgroups ? SUBGROUP_HEADER : ''}${u.declaration(withE ? 4 : 3)}
@group(0) @binding(0) var<storage, read> A: array<${t}>;
@group(0) @binding(1) var<storage, read> B: array<${t}>;
${withE ? `@group(0) @binding(2) var<storage, read> E: array<${t}>;\n` : ''}@group(0) @binding(${withE ? 3 : 2}) var<storage, read_write> Y: array<${t}>;
${batchOffsetFn('a')}${batchOffsetFn('b')}${loaders(unitA, unitB)}${body}`;
}
