import {
  defineOp,
  entry1d,
  grid1d,
  storageBindings,
  type Tensor,
  Uniforms,
} from '@tessera/tensor-webgpu';

// NaN tested by its bits: WGSL compilers may assume floats are never NaN and fold `x != x`.
const RANK_WGSL = `fn isNan(v: f32) -> bool {
  let b = bitcast<u32>(v);
  return (b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu) != 0u;
}
// v at column i ranks strictly before w at column j: NaN first, then larger values, then the lower index.
fn before(v: f32, i: u32, w: f32, j: u32) -> bool {
  if (isNan(v) != isNan(w)) { return isNan(v); }
  if (isNan(v) || v == w) { return i < j; }
  return v > w;
}
`;

/** `before` of RANK_WGSL, for the CPU reference. */
function before(v: number, i: number, w: number, j: number): boolean {
  if (Number.isNaN(v) !== Number.isNaN(w)) return Number.isNaN(v);
  if (Number.isNaN(v) || v === w) return i < j;
  return v > w;
}

/**
 * The k best columns of each row, best first, with one thread per row: k passes over the row,
 * each taking the best column that ranks after the previous pick. For a router's few experts
 * per row this beats a general top-k, which spends a workgroup and its barriers on every row.
 */
const selectOp = defineOp<{ k: number }>({
  name: 'moe_select',
  outputs: ([scores], { k }) => {
    if (scores!.dtype !== 'f32')
      throw new TypeError(`selectExperts: scores must be f32, got ${scores!.dtype}`);
    if (scores!.shape.length !== 2)
      throw new RangeError(
        `selectExperts: scores must be [tokens, experts], got [${scores!.shape.join(', ')}]`,
      );
    const experts = scores!.shape[1]!;
    if (!Number.isInteger(k) || k < 1 || k > experts)
      throw new RangeError(`selectExperts: k must be an integer in [1, ${experts}], got ${k}`);
    return [{ shape: [scores!.shape[0]!, k], dtype: 'i32' }];
  },
  wgsl: ([scores], _o, { k }, info) => {
    const [n, experts] = scores!.shape as [number, number];
    const u = new Uniforms().u32('n', n).u32('experts', experts).u32('k', k);
    return {
      key: 'moe_select',
      uniforms: u,
      workgroups: grid1d(n, info),
      code: () =>
        `${u.declaration(2)}${storageBindings([['scores', 'f32']], [['picked', 'i32']])}${RANK_WGSL}${entry1d(`  let base = i * P.experts;
  var prevV = 0.0;
  var prevI = 0u;
  for (var r = 0u; r < P.k; r++) {
    var bestV = 0.0;
    var bestI = P.experts;
    for (var c = 0u; c < P.experts; c++) {
      let v = scores[base + c];
      let after = r == 0u || before(prevV, prevI, v, c);
      if (after && (bestI == P.experts || before(v, c, bestV, bestI))) { bestV = v; bestI = c; }
    }
    picked[i * P.k + r] = i32(bestI);
    prevV = bestV;
    prevI = bestI;
  }`)}`,
    };
  },
  cpu: ([scores], [picked], { k }) => {
    const [n, experts] = scores!.shape as [number, number];
    for (let t = 0; t < n; t++) {
      const order = Array.from({ length: experts }, (_, c) => c);
      const at = (c: number) => scores!.data[t * experts + c]!;
      order.sort((a, b) => (before(at(a), a, at(b), b) ? -1 : 1));
      for (let r = 0; r < k; r++) picked!.data[t * k + r] = order[r]!;
    }
  },
});

/**
 * The k highest-scoring experts of each token, best first ([N, k] i32): what `topk` returns as
 * indices (ties go to the lower index, NaN ranks first), computed with one thread per token —
 * the shape of a router's choice, where rows are many and short. Not differentiable (indices).
 *
 * @param scores - [N, E] f32
 * @throws TypeError - scores not f32
 * @throws RangeError - scores not 2-D, or k outside [1, E]
 */
export function selectExperts(scores: Tensor, k: number): Tensor {
  return selectOp([scores], { k })[0]!;
}
