import {
  type CpuTensor,
  type DeviceInfo,
  defineOp,
  entry1d,
  grid1d,
  storageBindings,
  type TensorLayout,
  Uniforms,
} from '@tessera/tensor-webgpu';
import { combineWgsl, SPLIT_KEYS_WGSL } from './key-split.js';
import { KEY_KEEPS_WGSL, LANE_TILE, LANES, laneForwardWgsl, laneHeader } from './lane-kernels.js';
import { ALLOWED_WGSL, type AttentionDims, allowedCpu, RANGE_WGSL } from './options.js';
import { callAttention, wasmTakes } from './wasm.js';

/** Query rows per workgroup, and keys per tile staged in workgroup memory. */
export const BR = 32;
export const BC = 32;

/**
 * WebGPU kernel variants: `tiled` stages K/V tiles in workgroup memory (GPUs); `lanes` keeps
 * rows in registers and shares each load across a subgroup (CPU WebGPU with subgroups of at
 * least 8, headDim a multiple of 4); `row` reads K/V per thread with no barriers (CPU WebGPU
 * otherwise).
 */
export type FlashKernel = 'tiled' | 'row' | 'lanes';

export interface FlashParams extends AttentionDims {
  /** Rows allocated per KV head in k and v (≥ sk: a KV cache has spare capacity). */
  kvCapacity: number;
  kernel: FlashKernel | 'auto';
  /** Splits of the pass run with these params (`key-split.ts`): the forward's keys, or dK/dV's queries; default 1. */
  splits?: number;
  /** The query splits `attention()`'s backward gives the dK/dV pass; default 1. */
  dkvSplits?: number;
}

/** The largest headDim the `lanes` kernels take (`lanesFit`). */
const MAX_LANES_HEAD_DIM = 128;

/**
 * Whether the `lanes` kernels can run: subgroups of at least 8 lanes, headDim a multiple of 4 and
 * at most 128 (their unrolled code grows with headDim, and so does LLVM's compile time: about a
 * CPU minute for the backward passes at 128 already, docs/profile.md).
 */
export function lanesFit(headDim: number, info: DeviceInfo): boolean {
  return (
    info.subgroups &&
    (info.subgroupMinSize ?? 0) >= LANES &&
    headDim % 4 === 0 &&
    headDim <= MAX_LANES_HEAD_DIM
  );
}

/**
 * The kernel `auto` runs: `lanes` on CPU WebGPU where it fits (the fastest there at every shape
 * measured, README), else `row`; `tiled` on GPUs where its K/V tiles fit the workgroup memory,
 * else `row`. A kernel asked for by name that cannot run on this adapter is an error.
 */
export function chooseKernel(p: FlashParams, info: DeviceInfo): FlashKernel {
  if (p.kernel === 'lanes' && !lanesFit(p.headDim, info))
    throw new RangeError(
      `attention: kernel 'lanes' needs subgroups of at least ${LANES} lanes and headDim a multiple of 4 up to ${MAX_LANES_HEAD_DIM} (adapter ${info.adapter}, headDim ${p.headDim})`,
    );
  if (p.kernel === 'tiled' && !tiledFits(p.headDim, info))
    throw new RangeError(
      `attention: kernel 'tiled' stages ${BC} keys and values of headDim ${p.headDim} in ${tiledBytes(p.headDim)} bytes of workgroup memory, over the adapter's ${workgroupStorage(info)} (adapter ${info.adapter}); use 'row' or 'auto'`,
    );
  if (p.kernel !== 'auto') return p.kernel;
  if (!info.software) return tiledFits(p.headDim, info) ? 'tiled' : 'row';
  return lanesFit(p.headDim, info) ? 'lanes' : 'row';
}

/** Workgroup memory the `tiled` forward stages: a K and a V tile of BC rows, f32. */
const tiledBytes = (headDim: number) => 2 * BC * headDim * 4;
/** The adapter's workgroup memory (WebGPU's default limit, 16 KiB, where it reports none). */
const workgroupStorage = (info: DeviceInfo) => info.limits.maxComputeWorkgroupStorageSize ?? 16384;
/** Whether the `tiled` forward's K/V tiles fit the adapter's workgroup memory (headDim ≤ 128 at 32 KiB). */
function tiledFits(headDim: number, info: DeviceInfo): boolean {
  return tiledBytes(headDim) <= workgroupStorage(info);
}

/** Uniforms every attention kernel shares. */
export function attentionUniforms(p: FlashParams, maskStride: number): Uniforms {
  return new Uniforms()
    .u32('batch', p.batch)
    .u32('heads', p.heads)
    .u32('group', p.heads / p.kvHeads)
    .u32('kvHeads', p.kvHeads)
    .u32('sq', p.sq)
    .u32('sk', p.sk)
    .u32('kcap', p.kvCapacity)
    .f32('scale', p.scale)
    .u32('causal', p.causal ? 1 : 0)
    .u32('window', p.window)
    .u32('maskStride', maskStride)
    .u32('documents', p.documents ? 1 : 0)
    .u32('splits', p.splits ?? 1);
}

/**
 * WGSL for the optional mask (binding `mask`: 0 masks key j; with documents, key j needs a
 * positive value equal to |value| at the query's aligned position a), and the shared `allowed`
 * test.
 */
export function maskWgsl(hasMask: boolean): string {
  const body = hasMask
    ? `let m = mask[b * P.maskStride + j];
  if (P.documents == 1u) { return m > 0.0 && m == abs(mask[b * P.maskStride + u32(a)]); }
  return m != 0.0;`
    : 'return true;';
  return `fn maskAllows(a: i32, j: u32, b: u32) -> bool {\n  ${body}\n}\n${ALLOWED_WGSL}`;
}

/**
 * Flash attention forward (Dao, 2023): each thread owns one query row and streams over key tiles
 * with an online softmax — running max m, running sum l, unnormalised output acc — so the
 * Sq×Sk score matrix never exists. `tiled` stages each K/V tile in workgroup memory for the 32
 * rows of a workgroup (for GPUs); `row` reads K/V straight from memory with no barriers (for CPU
 * implementations of WebGPU, where workgroup memory is ordinary memory). Writes O and the row's
 * log-sum-exp, which the backward pass recomputes probabilities from. A row whose keys are all
 * masked gets O = 0 and lse = −∞. With `split` (`key-split.ts`), workgroup z walks split z of
 * the keys and writes its partials to PO and PL at split z's offset (f32), for the combine pass.
 */
export function flashForwardWgsl(
  p: FlashParams,
  t: string,
  kernel: FlashKernel,
  split = false,
): string {
  const D = p.headDim;
  const tiled = kernel === 'tiled';
  const kAt = (c: string, d: string) =>
    tiled ? `Ks[${c} * ${D}u + ${d}]` : `f32(K[kvBase + (t + ${c}) * ${D}u + ${d}])`;
  const vAt = (c: string, d: string) =>
    tiled ? `Vs[${c} * ${D}u + ${d}]` : `f32(V[kvBase + (t + ${c}) * ${D}u + ${d}])`;
  return `
${tiled ? `var<workgroup> Ks: array<f32, ${BC * D}>;\nvar<workgroup> Vs: array<f32, ${BC * D}>;` : ''}
@compute @workgroup_size(${BR})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bh = wid.y;
  let b = bh / P.heads;
  let h = bh % P.heads;
  let kvBase = ((b * P.kvHeads + h / P.group) * P.kcap) * ${D}u;
  let i = wid.x * ${BR}u + lid;
  let live = i < P.sq;
  let qBase = (bh * P.sq + min(i, P.sq - 1u)) * ${D}u;
  var q: array<f32, ${D}>;
  for (var d = 0u; d < ${D}u; d++) { q[d] = f32(Q[qBase + d]) * P.scale; }
  var acc: array<f32, ${D}>;
  var m = -3.4028234663852886e38;
  var l = 0.0;
  // Keys this workgroup can need: with a causal mask, none past its last row's aligned position.
  let lastRow = min(wid.x * ${BR}u + ${BR - 1}u, P.sq - 1u);
  var kEnd = P.sk;
  if (P.causal == 1u) { kEnd = min(P.sk, lastRow + P.sk - P.sq + 1u); }
  var kBegin = 0u;${
    split
      ? `
  let part = splitKeys(vec2<u32>(0u, kEnd), wid.z, ${BC}u);
  kBegin = part.x;
  kEnd = part.y;
  let zo = wid.z * P.batch * P.heads * P.sq;`
      : ''
  }
  for (var t = kBegin; t < kEnd; t += ${BC}u) {
${
  tiled
    ? `    for (var e = lid; e < ${BC * D}u; e += ${BR}u) {
      let j = t + e / ${D}u;
      let inRange = j < P.sk;
      let at = kvBase + min(j, P.sk - 1u) * ${D}u + e % ${D}u;
      Ks[e] = select(0.0, f32(K[at]), inRange);
      Vs[e] = select(0.0, f32(V[at]), inRange);
    }
    workgroupBarrier();`
    : ''
}
    if (live) {
      var s: array<f32, ${BC}>;
      var tileMax = -3.4028234663852886e38;
      var found = false;
      for (var c = 0u; c < ${BC}u; c++) {
        let j = t + c;
        s[c] = -3.4028234663852886e38;
        if (j < kEnd && allowed(i, j, b)) {
          var dot = 0.0;
          for (var d = 0u; d < ${D}u; d++) { dot = fma(q[d], ${kAt('c', 'd')}, dot); }
          s[c] = dot;
          tileMax = max(tileMax, dot);
          found = true;
        }
      }
      if (found) {
        let mNew = max(m, tileMax);
        let alpha = exp(m - mNew);
        l = l * alpha;
        for (var d = 0u; d < ${D}u; d++) { acc[d] = acc[d] * alpha; }
        for (var c = 0u; c < ${BC}u; c++) {
          if (s[c] > -3.0e38) {
            let pr = exp(s[c] - mNew);
            l += pr;
            for (var d = 0u; d < ${D}u; d++) { acc[d] = fma(pr, ${vAt('c', 'd')}, acc[d]); }
          }
        }
        m = mNew;
      }
    }
${tiled ? '    workgroupBarrier();' : ''}
  }
  if (live) {
    let inv = select(0.0, 1.0 / l, l > 0.0);
    for (var d = 0u; d < ${D}u; d++) { ${split ? `PO[zo * ${D}u + qBase + d] = acc[d] * inv;` : `O[qBase + d] = ${t}(acc[d] * inv);`} }
    var negInf = -3.4028234663852886e38;
    negInf = negInf * 2.0; // −∞ at run time (a constant −∞ is rejected by WGSL)
    ${split ? 'PL[zo + bh * P.sq + i]' : 'LSE[bh * P.sq + i]'} = select(negInf, m + log(l), l > 0.0);
  }
}
`;
}

/**
 * The same computation in plain TypeScript: the CPU backend, and the test oracle's twin. With
 * `rows` (i32 pairs: cache row, key length), query batch b reads K/V row `rows[2b]` and sees its
 * first `rows[2b + 1]` keys (KV-cache decoding with rows at their own lengths).
 */
export function flashForwardCpu(
  inputs: readonly CpuTensor[],
  outputs: readonly CpuTensor[],
  p: FlashParams,
  rows?: ArrayLike<number>,
): void {
  const [q, k, v, mask] = inputs;
  const [o, lse] = outputs;
  const D = p.headDim;
  const group = p.heads / p.kvHeads;
  const allowed = allowedCpu(p, mask?.data, mask?.shape[1] ?? 0);
  const acc = new Float64Array(D);
  for (let b = 0; b < p.batch; b++) {
    const kvRow = rows ? rows[2 * b]! : b;
    const sk = rows ? rows[2 * b + 1]! : p.sk;
    for (let h = 0; h < p.heads; h++) {
      const bh = b * p.heads + h;
      const kvBase = (kvRow * p.kvHeads + Math.floor(h / group)) * p.kvCapacity * D;
      for (let i = 0; i < p.sq; i++) {
        const qBase = (bh * p.sq + i) * D;
        let m = Number.NEGATIVE_INFINITY;
        let l = 0;
        acc.fill(0);
        for (let j = 0; j < sk; j++) {
          if (!allowed(i, j, b, sk)) continue;
          let s = 0;
          for (let d = 0; d < D; d++) s += q!.data[qBase + d]! * k!.data[kvBase + j * D + d]!;
          s *= p.scale;
          const mNew = Math.max(m, s);
          const alpha = Math.exp(m - mNew);
          const pr = Math.exp(s - mNew);
          l = l * alpha + pr;
          for (let d = 0; d < D; d++) acc[d] = acc[d]! * alpha + pr * v!.data[kvBase + j * D + d]!;
          m = mNew;
        }
        for (let d = 0; d < D; d++) o!.data[qBase + d] = l > 0 ? acc[d]! / l : 0;
        lse!.data[bh * p.sq + i] = l > 0 ? m + Math.log(l) : Number.NEGATIVE_INFINITY;
      }
    }
  }
}

/** Storage bindings Q, K, V (and the optional mask) read-only, then `outputs`. */
export function qkvBindings(t: string, hasMask: boolean, outputs: [string, string][]): string {
  const inputs: [string, string][] = [
    ['Q', t],
    ['K', t],
    ['V', t],
    ...(hasMask ? [['mask', 'f32'] as [string, string]] : []),
  ];
  return storageBindings(inputs, outputs);
}

/** Rows a workgroup owns with `kernel`: query rows in the forward and dQ passes, key rows in dK/dV. */
export function rowsPerWorkgroup(kernel: FlashKernel): number {
  return kernel === 'lanes' ? LANES * LANE_TILE.rows : BR;
}

/**
 * Outputs O [batch, heads, Sq, headDim] and the log-sum-exp [batch, heads, Sq] f32; with
 * `splits` > 1 also the split partials PO [splits · rows · headDim] and PL [splits · rows] f32
 * (scratch for the combine pass, unused by the CPU and wasm kernels).
 */
export const flashForwardOp = defineOp<FlashParams>({
  name: 'flash_attention',
  outputs: ([q], p) => {
    const rows = p.batch * p.heads * p.sq;
    const splits = p.splits ?? 1;
    return [
      { shape: [p.batch, p.heads, p.sq, p.headDim], dtype: q!.dtype },
      { shape: [p.batch, p.heads, p.sq], dtype: 'f32' },
      ...(splits > 1
        ? [
            { shape: [splits * rows * p.headDim], dtype: 'f32' as const },
            { shape: [splits * rows], dtype: 'f32' as const },
          ]
        : []),
    ];
  },
  wgsl: (inputs: readonly TensorLayout[], _o, p, info) => {
    const kernel = chooseKernel(p, info);
    const t = inputs[0]!.dtype === 'f16' ? 'f16' : 'f32';
    const mask = inputs[3];
    const splits = p.splits ?? 1;
    const split = splits > 1;
    const rows = p.batch * p.heads * p.sq;
    const u = attentionUniforms(p, mask ? mask.shape[1]! : 0);
    if (split) u.u32('rows', rows); // the combine pass's bound
    const bindingCount = inputs.length + (split ? 4 : 2);
    const outputs = (o: string, po: string): [string, string][] => [
      ['O', o],
      ['LSE', 'f32'],
      ...(split
        ? ([
            ['PO', po],
            ['PL', 'f32'],
          ] as [string, string][])
        : []),
    ];
    const suffix = `${t}:${p.headDim}:${mask ? 'mask' : ''}${split ? ':split' : ''}`;
    const workgroups: [number, number, number] = [
      Math.ceil(p.sq / rowsPerWorkgroup(kernel)),
      p.batch * p.heads,
      splits,
    ];
    const main =
      kernel === 'lanes'
        ? {
            key: `flash_fwd:lanes${LANE_TILE.rows}x${LANE_TILE.step}:${suffix}`,
            uniforms: u,
            workgroups,
            code: () => {
              const v4 = `vec4<${t}>`;
              return `${laneHeader(t)}${u.declaration(bindingCount)}${storageBindings(
                [
                  ['Q', v4],
                  ['K', v4],
                  ['V', v4],
                  ...(mask ? [['mask', 'f32'] as [string, string]] : []),
                ],
                outputs(v4, 'vec4<f32>'),
              )}${maskWgsl(!!mask)}${mask ? KEY_KEEPS_WGSL : ''}${RANGE_WGSL}${split ? SPLIT_KEYS_WGSL : ''}${laneForwardWgsl(p.headDim, t, !!mask, split)}`;
            },
          }
        : {
            key: `flash_fwd:${kernel}:${suffix}`,
            uniforms: u,
            workgroups,
            code: () =>
              `${t === 'f16' ? 'enable f16;\n' : ''}${u.declaration(bindingCount)}${qkvBindings(
                t,
                !!mask,
                outputs(t, 'f32'),
              )}${maskWgsl(!!mask)}${split ? SPLIT_KEYS_WGSL : ''}${flashForwardWgsl(p, t, kernel, split)}`,
          };
    if (!split) return main;
    const combine = {
      key: `flash_fwd:combine:${t}:${p.headDim}:${mask ? 'mask' : ''}`,
      uniforms: u,
      workgroups: grid1d(rows, info),
      code: () =>
        `${t === 'f16' ? 'enable f16;\n' : ''}${u.declaration(bindingCount)}${qkvBindings(
          t,
          !!mask,
          outputs(t, 'f32'),
        )}${combineWgsl(p.headDim, t)}${entry1d('  combine(i);', 'P.rows')}`,
    };
    return [main, combine];
  },
  cpu: (inputs, outputs, p) => flashForwardCpu(inputs, outputs, p),
  wasm: ([q, k, v, mask], [o, lse], p, context) => {
    if (!wasmTakes([q, k, v])) return false;
    const rows = [p.batch * p.heads * p.sq, p.sk] as [number, number];
    callAttention(context, 'flashForward', [q, k, v, mask, undefined, o, lse], p, mask, rows);
    return true;
  },
});
