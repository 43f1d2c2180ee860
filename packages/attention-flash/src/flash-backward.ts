import {
  type CpuTensor,
  defineOp,
  type GpuKernel,
  storageBindings,
  type TensorLayout,
} from '@tessera/tensor-webgpu';
import {
  attentionUniforms,
  BR,
  chooseKernel,
  type FlashParams,
  maskWgsl,
} from './flash-forward.js';
import { SPLIT_KEYS_WGSL } from './key-split.js';
import {
  KEY_KEEPS_WGSL,
  LANE_TILE,
  LANES,
  laneDkvWgsl,
  laneDqWgsl,
  laneHeader,
} from './lane-kernels.js';
import { allowedCpu, RANGE_WGSL } from './options.js';
import { callAttention, wasmTakes } from './wasm.js';

/**
 * Flash attention backward by recomputation (FlashAttention-2): probabilities are rebuilt from
 * the saved log-sum-exp, p = exp(s − lse), never stored. Two passes, neither needing atomics:
 * - dQ: a thread per query row: δ = dO·O, then over keys ds = p·(dO·v − δ), dQ += ds·k;
 * - dK, dV: a thread per key row of a KV head: over every query head of its group (GQA sums the
 *   group's gradients here) and every query, dV += p·dO and dK += ds·q.
 */
/** Storage bindings of a backward kernel: its inputs, the optional mask, then its outputs. */
function bindings(
  hasMask: boolean,
  inputs: [string, string][],
  outputs: [string, string][],
): string {
  return storageBindings(
    [...inputs, ...(hasMask ? [['mask', 'f32'] as [string, string]] : [])],
    outputs,
  );
}

/**
 * WGSL: elements 4d..4d+3 of a row (at `at`, in a loop over `d`) as a vec4<f32>, and the reverse
 * (inlined). Where headDim D is not a multiple of 4, the last vec4 is partly past the row: those
 * lanes read as 0 and are not stored.
 */
function ld(array: string, at: string, D: number): string {
  const lane = (c: number) => {
    const x = `f32(${array}[${at}${c > 0 ? ` + ${c}u` : ''}])`;
    return D % 4 === 0 || c === 0 ? x : `select(0.0, ${x}, 4u * d + ${c}u < ${D}u)`;
  };
  return `vec4<f32>(${lane(0)}, ${lane(1)}, ${lane(2)}, ${lane(3)})`;
}
function st(t: string, array: string, at: string, v: string, D: number): string {
  const lane = (c: number, x: string) => {
    const store = `${array}[${at}${c > 0 ? ` + ${c}u` : ''}] = ${t}(sv.${x});`;
    return D % 4 === 0 || c === 0 ? store : `if (4u * d + ${c}u < ${D}u) { ${store} }`;
  };
  return `{ let sv = ${v}; ${['x', 'y', 'z', 'w'].map((x, c) => lane(c, x)).join(' ')} }`;
}

/**
 * A backward kernel: a thread per row (query rows for dQ, key rows for dK/dV) in workgroups of
 * BR, one workgroup row per (batch, head) pair; `build` gives the outputs and the entry point.
 */
function backwardKernel(
  name: string,
  inputs: readonly TensorLayout[],
  p: FlashParams,
  [rows, heads]: [number, number],
  inputBindings: (t: string) => [string, string][],
  build: (t: string, D: number) => [[string, string][], string],
  splits = 1,
): GpuKernel {
  const t = inputs[0]!.dtype === 'f16' ? 'f16' : 'f32';
  const mask = inputs[6];
  const u = attentionUniforms(p, mask ? mask.shape[1]! : 0);
  return {
    key: `${name}:${t}:${p.headDim}:${mask ? 'mask' : ''}${splits > 1 ? ':split' : ''}`,
    uniforms: u,
    workgroups: [Math.ceil(rows / BR), heads, splits],
    // Built only when the pipeline is compiled, not on every dispatch.
    code: () => {
      const [outputs, main] = build(t, p.headDim);
      return `${t === 'f16' ? 'enable f16;\n' : ''}${u.declaration(inputs.length + outputs.length)}${bindings(!!mask, inputBindings(t), outputs)}
${maskWgsl(!!mask)}${splits > 1 ? SPLIT_KEYS_WGSL : ''}
@compute @workgroup_size(${BR})
${main}`;
    },
  };
}

/**
 * A `lanes` backward kernel (lane-kernels.ts): Q/K/V-shaped tensors bound as vec4 arrays, LSE,
 * DELTA and the mask as f32; a workgroup per LANES × rows rows of one (batch, head).
 */
function laneKernel(
  name: string,
  inputs: readonly TensorLayout[],
  p: FlashParams,
  [rows, heads]: [number, number],
  [bindings, outputs]: [[string, boolean][], [string, boolean][]],
  main: (D: number, t: string, hasMask: boolean, split: boolean) => string,
  splits = 1,
): GpuKernel {
  const t = inputs[0]!.dtype === 'f16' ? 'f16' : 'f32';
  const mask = inputs[6];
  const u = attentionUniforms(p, mask ? mask.shape[1]! : 0);
  const typed = (list: [string, boolean][], vt = t) =>
    list.map(([n, vec]): [string, string] => [n, vec ? `vec4<${vt}>` : 'f32']);
  const split = splits > 1;
  return {
    key: `${name}:lanes${LANE_TILE.rows}x${LANE_TILE.step}:${t}:${p.headDim}:${mask ? 'mask' : ''}${split ? ':split' : ''}`,
    uniforms: u,
    workgroups: [Math.ceil(rows / (LANES * LANE_TILE.rows)), heads, splits],
    code: () =>
      `${laneHeader(t)}${u.declaration(inputs.length + outputs.length)}${storageBindings(
        [...typed(bindings), ...(mask ? [['mask', 'f32'] as [string, string]] : [])],
        // Split partial gradients are summed afterwards: kept in f32.
        typed(outputs, split ? 'f32' : t),
      )}${maskWgsl(!!mask)}${mask ? KEY_KEEPS_WGSL : ''}${RANGE_WGSL}${split ? SPLIT_KEYS_WGSL : ''}${main(p.headDim, t, !!mask, split)}`,
  };
}

const DQ_INPUTS = (t: string): [string, string][] => [
  ['Q', t],
  ['K', t],
  ['V', t],
  ['O', t],
  ['dO', t],
  ['LSE', 'f32'],
];

/** The dQ kernel's bindings (true: a vec4 array), then its outputs. */
const DQ_LANE_BINDINGS: [[string, boolean][], [string, boolean][]] = [
  [
    ['Q', true],
    ['K', true],
    ['V', true],
    ['O', true],
    ['dO', true],
    ['LSE', false],
  ],
  [
    ['dQ', true],
    ['DELTA', false],
  ],
];

export const flashDqOp = defineOp<FlashParams>({
  name: 'flash_attention_dq',
  outputs: ([q], p) => [
    { shape: q!.shape, dtype: q!.dtype },
    { shape: [p.batch, p.heads, p.sq], dtype: 'f32' },
  ],
  wgsl: (inputs: readonly TensorLayout[], _o, p, info) =>
    chooseKernel(p, info) === 'lanes'
      ? laneKernel('flash_dq', inputs, p, [p.sq, p.batch * p.heads], DQ_LANE_BINDINGS, laneDqWgsl)
      : backwardKernel('flash_dq', inputs, p, [p.sq, p.batch * p.heads], DQ_INPUTS, (t, D) => [
          [
            ['dQ', t],
            ['DELTA', 'f32'],
          ],
          `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bh = wid.y;
  let b = bh / P.heads;
  let h = bh % P.heads;
  let i = wid.x * ${BR}u + lid;
  if (i >= P.sq) { return; }
  let kvBase = ((b * P.kvHeads + h / P.group) * P.kcap) * ${D}u;
  let qBase = (bh * P.sq + i) * ${D}u;
  // Rows are held as vec4s: a quarter of the dynamically indexed private-array accesses.
  var q: array<vec4<f32>, ${Math.ceil(D / 4)}>;
  var go: array<vec4<f32>, ${Math.ceil(D / 4)}>;
  var delta = 0.0;
  for (var d = 0u; d < ${Math.ceil(D / 4)}u; d++) {
    q[d] = ${ld('Q', 'qBase + 4u * d', D)} * P.scale;
    go[d] = ${ld('dO', 'qBase + 4u * d', D)};
    delta += dot(go[d], ${ld('O', 'qBase + 4u * d', D)});
  }
  DELTA[bh * P.sq + i] = delta;
  let lse = LSE[bh * P.sq + i];
  var dq: array<vec4<f32>, ${Math.ceil(D / 4)}>;
  for (var j = 0u; j < P.sk; j++) {
    if (!allowed(i, j, b)) { continue; }
    var s = 0.0;
    var dp = 0.0;
    let row = kvBase + j * ${D}u;
    for (var d = 0u; d < ${Math.ceil(D / 4)}u; d++) {
      s += dot(q[d], ${ld('K', 'row + 4u * d', D)});
      dp += dot(go[d], ${ld('V', 'row + 4u * d', D)});
    }
    let ds = exp(s - lse) * (dp - delta);
    for (var d = 0u; d < ${Math.ceil(D / 4)}u; d++) { dq[d] = fma(vec4<f32>(ds), ${ld('K', 'row + 4u * d', D)}, dq[d]); }
  }
  for (var d = 0u; d < ${Math.ceil(D / 4)}u; d++) { ${st(t, 'dQ', 'qBase + 4u * d', 'dq[d] * P.scale', D)} }
}
`,
        ]),
  cpu: (inputs: readonly CpuTensor[], outputs: readonly CpuTensor[], p) => {
    const [q, k, v, o, dO, lse, mask] = inputs;
    const [dq, delta] = outputs;
    const D = p.headDim;
    const group = p.heads / p.kvHeads;
    const allowed = allowedCpu(p, mask?.data, mask?.shape[1] ?? 0);
    for (let b = 0; b < p.batch; b++) {
      for (let h = 0; h < p.heads; h++) {
        const bh = b * p.heads + h;
        const kvBase = (b * p.kvHeads + Math.floor(h / group)) * p.kvCapacity * D;
        for (let i = 0; i < p.sq; i++) {
          const qBase = (bh * p.sq + i) * D;
          let dl = 0;
          for (let d = 0; d < D; d++) dl += dO!.data[qBase + d]! * o!.data[qBase + d]!;
          delta!.data[bh * p.sq + i] = dl;
          const acc = new Float64Array(D);
          for (let j = 0; j < p.sk; j++) {
            if (!allowed(i, j, b)) continue;
            let s = 0;
            let dp = 0;
            for (let d = 0; d < D; d++) {
              s += q!.data[qBase + d]! * k!.data[kvBase + j * D + d]!;
              dp += dO!.data[qBase + d]! * v!.data[kvBase + j * D + d]!;
            }
            const ds = Math.exp(s * p.scale - lse!.data[bh * p.sq + i]!) * (dp - dl);
            for (let d = 0; d < D; d++) acc[d]! += ds * k!.data[kvBase + j * D + d]!;
          }
          for (let d = 0; d < D; d++) dq!.data[qBase + d] = acc[d]! * p.scale;
        }
      }
    }
  },
  wasm: ([q, k, v, o, dO, lse, mask], [dq, delta], p, context) => {
    if (!wasmTakes([q, k, v, o, dO])) return false;
    const tensors = [q, k, v, o, dO, lse, mask, dq, delta];
    callAttention(context, 'flashDq', tensors, p, mask, [p.batch * p.heads * p.sq, p.sk]);
    return true;
  },
});

/**
 * The `tiled`/`row` dK/dV pass (`t`: the gradients' element type): a thread per key row of a KV
 * head, over every query head of its group and every query that sees it; with `split`, only the
 * queries of split `wid.z`, written to that split's slice of the partial gradients.
 */
function dkvRowKernel(t: string, D: number, split: boolean): [[string, string][], string] {
  return [
    [
      ['dK', t],
      ['dV', t],
    ],
    `fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bkv = wid.y;
  let b = bkv / P.kvHeads;
  let kvh = bkv % P.kvHeads;
  let j = wid.x * ${BR}u + lid;
  if (j >= P.sk) { return; }
  let kvAt = ((b * P.kvHeads + kvh) * P.kcap + j) * ${D}u;
  var kr: array<vec4<f32>, ${Math.ceil(D / 4)}>;
  var vr: array<vec4<f32>, ${Math.ceil(D / 4)}>;
  for (var d = 0u; d < ${Math.ceil(D / 4)}u; d++) { kr[d] = ${ld('K', 'kvAt + 4u * d', D)}; vr[d] = ${ld('V', 'kvAt + 4u * d', D)}; }
  let queries = ${split ? 'splitKeys(vec2<u32>(0u, P.sq), wid.z, 1u)' : 'vec2<u32>(0u, P.sq)'};
  var dk: array<vec4<f32>, ${Math.ceil(D / 4)}>;
  var dv: array<vec4<f32>, ${Math.ceil(D / 4)}>;
  for (var g = 0u; g < P.group; g++) {
    let bh = b * P.heads + kvh * P.group + g;
    for (var i = queries.x; i < queries.y; i++) {
      if (!allowed(i, j, b)) { continue; }
      let qBase = (bh * P.sq + i) * ${D}u;
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < ${Math.ceil(D / 4)}u; d++) {
        s += dot(${ld('Q', 'qBase + 4u * d', D)}, kr[d]);
        dp += dot(${ld('dO', 'qBase + 4u * d', D)}, vr[d]);
      }
      let pr = exp(s * P.scale - LSE[bh * P.sq + i]);
      let ds = pr * (dp - DELTA[bh * P.sq + i]);
      for (var d = 0u; d < ${Math.ceil(D / 4)}u; d++) {
        dv[d] = fma(vec4<f32>(pr), ${ld('dO', 'qBase + 4u * d', D)}, dv[d]);
        dk[d] = fma(vec4<f32>(ds), ${ld('Q', 'qBase + 4u * d', D)}, dk[d]);
      }
    }
  }
  let out = ((${split ? '(wid.z * P.batch + b)' : 'b'} * P.kvHeads + kvh) * P.sk + j) * ${D}u;
  for (var d = 0u; d < ${Math.ceil(D / 4)}u; d++) { ${st(t, 'dK', 'out + 4u * d', 'dk[d] * P.scale', D)} ${st(t, 'dV', 'out + 4u * d', 'dv[d]', D)} }
}
`,
  ];
}

const DKV_INPUTS = (t: string): [string, string][] => [
  ['Q', t],
  ['K', t],
  ['V', t],
  ['dO', t],
  ['LSE', 'f32'],
  ['DELTA', 'f32'],
];

/** The dK/dV kernel's bindings (true: a vec4 array), then its outputs. */
const DKV_LANE_BINDINGS: [[string, boolean][], [string, boolean][]] = [
  [
    ['Q', true],
    ['K', true],
    ['V', true],
    ['dO', true],
    ['LSE', false],
    ['DELTA', false],
  ],
  [
    ['dK', true],
    ['dV', true],
  ],
];

/**
 * dK and dV [batch, kvHeads, Sk, headDim]; with `splits` > 1 (WebGPU only: the query
 * dimension split across the grid's z, `dkvSplits`), the partial gradients of each split,
 * [splits, batch, kvHeads, Sk, headDim] f32, for the caller to sum.
 */
export const flashDkvOp = defineOp<FlashParams>({
  name: 'flash_attention_dkv',
  outputs: ([, k], p) => {
    const splits = p.splits ?? 1;
    const shape = [...(splits > 1 ? [splits] : []), p.batch, p.kvHeads, p.sk, p.headDim];
    const dtype = splits > 1 ? ('f32' as const) : k!.dtype;
    return [
      { shape, dtype },
      { shape, dtype },
    ];
  },
  wgsl: (inputs: readonly TensorLayout[], _o, p, info) =>
    chooseKernel(p, info) === 'lanes'
      ? laneKernel(
          'flash_dkv',
          inputs,
          p,
          [p.sk, p.batch * p.kvHeads],
          DKV_LANE_BINDINGS,
          laneDkvWgsl,
          p.splits ?? 1,
        )
      : backwardKernel(
          'flash_dkv',
          inputs,
          p,
          [p.sk, p.batch * p.kvHeads],
          DKV_INPUTS,
          (t, D) => dkvRowKernel((p.splits ?? 1) > 1 ? 'f32' : t, D, (p.splits ?? 1) > 1),
          p.splits ?? 1,
        ),
  cpu: (inputs: readonly CpuTensor[], outputs: readonly CpuTensor[], p) => {
    const [q, k, v, dO, lse, delta, mask] = inputs;
    const [dk, dv] = outputs;
    const D = p.headDim;
    const group = p.heads / p.kvHeads;
    const allowed = allowedCpu(p, mask?.data, mask?.shape[1] ?? 0);
    for (let b = 0; b < p.batch; b++) {
      for (let kvh = 0; kvh < p.kvHeads; kvh++) {
        for (let j = 0; j < p.sk; j++) {
          const kvAt = ((b * p.kvHeads + kvh) * p.kvCapacity + j) * D;
          const accK = new Float64Array(D);
          const accV = new Float64Array(D);
          for (let g = 0; g < group; g++) {
            const bh = b * p.heads + kvh * group + g;
            for (let i = 0; i < p.sq; i++) {
              if (!allowed(i, j, b)) continue;
              const qBase = (bh * p.sq + i) * D;
              let s = 0;
              let dp = 0;
              for (let d = 0; d < D; d++) {
                s += q!.data[qBase + d]! * k!.data[kvAt + d]!;
                dp += dO!.data[qBase + d]! * v!.data[kvAt + d]!;
              }
              const pr = Math.exp(s * p.scale - lse!.data[bh * p.sq + i]!);
              const ds = pr * (dp - delta!.data[bh * p.sq + i]!);
              for (let d = 0; d < D; d++) {
                accV[d]! += pr * dO!.data[qBase + d]!;
                accK[d]! += ds * q!.data[qBase + d]!;
              }
            }
          }
          const out = ((b * p.kvHeads + kvh) * p.sk + j) * D;
          for (let d = 0; d < D; d++) {
            dk!.data[out + d] = accK[d]! * p.scale;
            dv!.data[out + d] = accV[d]!;
          }
        }
      }
    }
  },
  wasm: ([q, k, v, dO, lse, delta, mask], [dk, dv], p, context) => {
    if (!wasmTakes([q, k, v, dO])) return false;
    const tensors = [q, k, v, dO, lse, delta, mask, dk, dv];
    const rows = p.batch * p.kvHeads * p.sk;
    callAttention(context, 'flashDkv', tensors, p, mask, [rows, (p.heads / p.kvHeads) * p.sq]);
    return true;
  },
});
