import {
  type CpuTensor,
  checkOptions,
  defineOp,
  entry1d,
  grid1d,
  storageBindings,
  type Tensor,
  type TensorLayout,
  tensor,
} from '@tessera/tensor-webgpu';
import { attentionUniforms, type FlashParams, flashForwardCpu, maskWgsl } from './flash-forward.js';
import { checkRows, type KVCache } from './kv-cache.js';
import { ATTENTION_OPTION_KEYS, type AttentionOptions, attentionDims } from './options.js';
import { callAttention, wasmTakes } from './wasm.js';

/** Keys per split of the flash-decoding pass. */
const CHUNK = 128;

/**
 * Flash-decoding (Dao et al., 2023): for a few new queries against a long cache, one thread per
 * query row would leave the GPU idle, so the keys are split into chunks handled in parallel; each
 * writes a partial (max, sum, unnormalised output) and a second kernel combines the partials of a
 * row by their log-sum-exp. `ROWS` (i32 pairs) gives each query batch its cache row and key
 * count; the chunks cover the longest row, and a shorter row's chunks past its end stay empty.
 */
function partialsWgsl(D: number): string {
  return `
fn split(i: u32) {
  let chunks = (P.sk + ${CHUNK - 1}u) / ${CHUNK}u;
  let row = i / chunks;
  let chunk = i % chunks;
  let bh = row / P.sq;
  let qi = row % P.sq;
  let b = bh / P.heads;
  let h = bh % P.heads;
  let sk = u32(ROWS[2u * b + 1u]);
  let kvBase = ((u32(ROWS[2u * b]) * P.kvHeads + h / P.group) * P.kcap) * ${D}u;
  var q: array<f32, ${D}>;
  for (var d = 0u; d < ${D}u; d++) { q[d] = f32(Q[row * ${D}u + d]) * P.scale; }
  var acc: array<f32, ${D}>;
  var m = -3.4028234663852886e38;
  var l = 0.0;
  let end = min(sk, (chunk + 1u) * ${CHUNK}u);
  for (var j = chunk * ${CHUNK}u; j < end; j++) {
    if (!allowedIn(qi, j, b, sk)) { continue; }
    var s = 0.0;
    for (var d = 0u; d < ${D}u; d++) { s = fma(q[d], f32(K[kvBase + j * ${D}u + d]), s); }
    let mNew = max(m, s);
    let alpha = exp(m - mNew);
    let pr = exp(s - mNew);
    l = l * alpha + pr;
    for (var d = 0u; d < ${D}u; d++) { acc[d] = fma(pr, f32(V[kvBase + j * ${D}u + d]), acc[d] * alpha); }
    m = mNew;
  }
  let at = i * ${D + 2}u;
  PART[at] = m;
  PART[at + 1u] = l;
  for (var d = 0u; d < ${D}u; d++) { PART[at + 2u + d] = acc[d]; }
}
`;
}

function combineWgsl(D: number, t: string): string {
  return `
fn combine(row: u32) {
  let chunks = (P.sk + ${CHUNK - 1}u) / ${CHUNK}u;
  var big = -3.4028234663852886e38;
  for (var c = 0u; c < chunks; c++) {
    let at = (row * chunks + c) * ${D + 2}u;
    if (PART[at + 1u] > 0.0) { big = max(big, PART[at]); }
  }
  var total = 0.0;
  var acc: array<f32, ${D}>;
  for (var c = 0u; c < chunks; c++) {
    let at = (row * chunks + c) * ${D + 2}u;
    if (PART[at + 1u] > 0.0) {
      let w = exp(PART[at] - big);
      total += PART[at + 1u] * w;
      for (var d = 0u; d < ${D}u; d++) { acc[d] = fma(w, PART[at + 2u + d], acc[d]); }
    }
  }
  let inv = select(0.0, 1.0 / total, total > 0.0);
  for (var d = 0u; d < ${D}u; d++) { O[row * ${D}u + d] = ${t}(acc[d] * inv); }
}
`;
}

const decodeOp = defineOp<FlashParams>({
  name: 'flash_decode',
  outputs: ([q], p) => [
    { shape: [p.batch, p.heads, p.sq, p.headDim], dtype: q!.dtype },
    { shape: [p.batch * p.heads * p.sq * Math.ceil(p.sk / CHUNK) * (p.headDim + 2)], dtype: 'f32' },
  ],
  wgsl: (inputs: readonly TensorLayout[], _o, p, info) => {
    const t = inputs[0]!.dtype === 'f16' ? 'f16' : 'f32';
    const mask = inputs[4];
    const rows = p.batch * p.heads * p.sq;
    const splits = rows * Math.ceil(p.sk / CHUNK);
    const D = p.headDim;
    const u = attentionUniforms(p, mask ? mask.shape[1]! : 0)
      .u32('n', splits)
      .u32('rows', rows);
    const head = () =>
      `${t === 'f16' ? 'enable f16;\n' : ''}${u.declaration(inputs.length + 2)}${storageBindings(
        [
          ['Q', t],
          ['K', t],
          ['V', t],
          ['ROWS', 'i32'],
          ...(mask ? [['mask', 'f32'] as [string, string]] : []),
        ],
        [
          ['O', t],
          ['PART', 'f32'],
        ],
      )}${maskWgsl(!!mask)}`;
    const key = `flash_decode:${t}:${D}:${mask ? 'mask' : ''}`;
    return [
      {
        key: `${key}:split`,
        uniforms: u,
        workgroups: grid1d(splits, info),
        code: () => `${head()}${partialsWgsl(D)}${entry1d('  split(i);')}`,
      },
      {
        key: `${key}:combine`,
        uniforms: u,
        workgroups: grid1d(rows, info),
        code: () => `${head()}${combineWgsl(D, t)}${entry1d('  combine(i);', 'P.rows')}`,
      },
    ];
  },
  // The CPU needs no split: it computes each row directly.
  cpu: ([q, k, v, rows, mask], outputs: readonly CpuTensor[], p) => {
    const lse = {
      ...outputs[0]!,
      data: new Float32Array(p.batch * p.heads * p.sq),
      shape: [p.batch, p.heads, p.sq],
    };
    const qkv = [q!, k!, v!, ...(mask ? [mask] : [])];
    flashForwardCpu(qkv, [outputs[0]!, lse], p, rows!.data);
  },
  // No split either: each row directly, the log-sum-exp into scratch.
  wasm: ([q, k, v, rows, mask], [o], p, context) => {
    if (!wasmTakes([q, k, v])) return false;
    const lse = { ...o!, address: context.scratch(p.batch * p.heads * p.sq * 4), offset: 0 };
    const tensors = [q, k, v, mask, rows, o, lse];
    callAttention(context, 'flashForward', tensors, p, mask, [p.batch * p.heads * p.sq, p.sk]);
    return true;
  },
});

/**
 * Attention of new queries q [n, heads, Sq, headDim] against the rows of a KV cache (their new
 * keys and values appended already): query batch i reads cache row `rows[i]` (default: row i of
 * every row), and causal alignment puts its queries at that row's last Sq positions — each row
 * at its own length. Inference only (no gradient). Throws on unknown options, shapes that do not
 * fit, a listed row shorter than Sq, naming them.
 */
export function decodeAttention(
  q: Tensor,
  cache: KVCache,
  options: AttentionOptions & { rows?: readonly number[] } = {},
): Tensor {
  const { rows: picked, ...attentionOptions } = options;
  checkOptions('decodeAttention', options, [...ATTENTION_OPTION_KEYS, 'rows']);
  const rows = checkRows(cache, picked, 'decodeAttention');
  if (q.rank === 4 && q.shape[0] !== rows.length)
    throw new RangeError(
      `decodeAttention: q has ${q.shape[0]} rows, ${rows.length} cache rows are listed`,
    );
  const lengths = rows.map((r) => cache.lengths[r]!);
  const sq = q.shape[2] ?? 0;
  const short = rows.find((r) => cache.lengths[r]! < Math.max(sq, 1));
  if (short !== undefined)
    throw new Error(
      `decodeAttention: cache row ${short} holds ${cache.lengths[short]} positions, fewer than the ${Math.max(sq, 1)} queries; append the keys and values first`,
    );
  const dims = attentionDims(
    'decodeAttention',
    ATTENTION_OPTION_KEYS,
    q,
    cache.k,
    cache.v,
    attentionOptions,
    Math.max(...lengths),
  );
  const rowInfo = tensor(Int32Array.from(rows.flatMap((r, i) => [r, lengths[i]!])), {
    device: q.device,
  });
  const mask = attentionOptions.keyPaddingMask;
  const inputs = [q, cache.k, cache.v, rowInfo, ...(mask ? [mask] : [])];
  const [out, partials] = decodeOp(inputs, { ...dims, kvCapacity: cache.capacity, kernel: 'row' });
  partials!.dispose();
  rowInfo.dispose();
  return out!;
}
