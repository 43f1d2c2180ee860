/**
 * Matmul kernels kept beside the core's one, llm.c style: the naive kernel (one thread per output)
 * is the benchmark baseline; the variants document what was tried on the way to the core kernel.
 * Contiguous [M, K] @ [K, N] only.
 */
import { defineOp, type Tensor, Uniforms } from '../src/index.js';

interface Variant {
  name: string;
  workgroup: [number, number];
  tile: [number, number];
  body: string;
}

function matmulVariant(v: Variant) {
  const op = defineOp<undefined>({
    name: `matmul_${v.name}`,
    outputs: ([a, b]) => [{ shape: [a!.shape[0]!, b!.shape[1]!], dtype: 'f32' }],
    wgsl: ([a, b]) => {
      const [m, k] = a!.shape as [number, number];
      const n = b!.shape[1]!;
      const u = new Uniforms().u32('m', m).u32('n', n).u32('k', k);
      return {
        key: `bench_matmul_${v.name}`,
        uniforms: u,
        workgroups: [Math.ceil(n / v.tile[0]), Math.ceil(m / v.tile[1]), 1],
        code: () => `${u.declaration(3)}
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@compute @workgroup_size(${v.workgroup[0]}, ${v.workgroup[1]})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
${v.body}
}`,
      };
    },
    cpu: () => {
      throw new Error('bench kernels run on WebGPU only');
    },
  });
  return (a: Tensor, b: Tensor) => op([a, b], undefined)[0]!;
}

/** One thread per output element, reading A and B straight from global memory. */
export const naiveMatmul = matmulVariant({
  name: 'naive',
  workgroup: [16, 16],
  tile: [16, 16],
  body: `  let r = wid.y * 16u + lid.y;
  let c = wid.x * 16u + lid.x;
  if (r >= P.m || c >= P.n) { return; }
  var s = 0.0;
  for (var k = 0u; k < P.k; k++) { s = fma(A[r * P.k + k], B[k * P.n + c], s); }
  C[r * P.n + c] = s;`,
});

/** 4×4 outputs per thread with columns strided by 16 (neighbouring threads read neighbouring columns), no shared memory. */
export const registerMatmul = matmulVariant({
  name: 'register',
  workgroup: [16, 16],
  tile: [64, 64],
  body: `  let r0 = wid.y * 64u + lid.y;
  let c0 = wid.x * 64u + lid.x;
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < P.k; k++) {
    var b = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) { let c = c0 + j * 16u; b[j] = select(0.0, B[k * P.n + c], c < P.n); }
    for (var i = 0u; i < 4u; i++) {
      let r = r0 + i * 16u;
      acc[i] = fma(vec4<f32>(select(0.0, A[r * P.k + k], r < P.m)), b, acc[i]);
    }
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let r = r0 + i * 16u;
      let c = c0 + j * 16u;
      if (r < P.m && c < P.n) { C[r * P.n + c] = acc[i][j]; }
    }
  }`,
});

/** 8×4 outputs per thread (a 128×64 tile). */
export const register8x4Matmul = matmulVariant({
  name: 'register8x4',
  workgroup: [16, 16],
  tile: [64, 128],
  body: `  let r0 = wid.y * 128u + lid.y;
  let c0 = wid.x * 64u + lid.x;
  var acc: array<vec4<f32>, 8>;
  for (var k = 0u; k < P.k; k++) {
    var b = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) { let c = c0 + j * 16u; b[j] = select(0.0, B[k * P.n + c], c < P.n); }
    for (var i = 0u; i < 8u; i++) {
      let r = r0 + i * 16u;
      acc[i] = fma(vec4<f32>(select(0.0, A[r * P.k + k], r < P.m)), b, acc[i]);
    }
  }
  for (var i = 0u; i < 8u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let r = r0 + i * 16u;
      let c = c0 + j * 16u;
      if (r < P.m && c < P.n) { C[r * P.n + c] = acc[i][j]; }
    }
  }`,
});

/** 4×4 outputs per thread with 8×8 threads (a 32×32 tile). */
export const registerSmallMatmul = matmulVariant({
  name: 'register_small',
  workgroup: [8, 8],
  tile: [32, 32],
  body: `  let r0 = wid.y * 32u + lid.y;
  let c0 = wid.x * 32u + lid.x;
  var acc: array<vec4<f32>, 4>;
  for (var k = 0u; k < P.k; k++) {
    var b = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) { let c = c0 + j * 8u; b[j] = select(0.0, B[k * P.n + c], c < P.n); }
    for (var i = 0u; i < 4u; i++) {
      let r = r0 + i * 8u;
      acc[i] = fma(vec4<f32>(select(0.0, A[r * P.k + k], r < P.m)), b, acc[i]);
    }
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      let r = r0 + i * 8u;
      let c = c0 + j * 8u;
      if (r < P.m && c < P.n) { C[r * P.n + c] = acc[i][j]; }
    }
  }`,
});
