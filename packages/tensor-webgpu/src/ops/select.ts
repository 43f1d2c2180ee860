import { isFloat, wgslType } from '../dtype.js';
import { checkOptions } from '../errors.js';
import { storageBindings } from '../kernel.js';
import { defineOp } from '../op.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from '../uniforms.js';
import { NAN_WGSL } from './elementwise-kernel.js';
import { scatterAdd } from './indexing.js';
import { asRows, ROW_WG, RowPlan } from './rows.js';
import { reshape } from './view.js';

/**
 * The order topk ranks values in, as PyTorch: NaN above every number (NaNs among themselves by
 * index), then numbers descending. `above` is "ranks strictly higher", `same` "ranks equal".
 */
const RANK_WGSL = `${NAN_WGSL}
fn above(v: f32, w: f32) -> bool {
  if (unordered(v, w)) { return is_nan(v) && !is_nan(w); }
  return v > w;
}
fn same(v: f32, w: f32) -> bool {
  if (unordered(v, w)) { return is_nan(v) && is_nan(w); }
  return v == w;
}
`;
/** `RANK_WGSL` on the CPU: negative when `v` ranks higher than `w`, as a sort comparator. */
function rankOrder(v: number, w: number): number {
  if (Number.isNaN(v) || Number.isNaN(w)) return +Number.isNaN(w) - +Number.isNaN(v);
  return v > w ? -1 : v < w ? 1 : 0;
}

/**
 * The k largest elements of each row, in order (NaN first, then value descending, then index
 * ascending, so ties keep their original order). Each of the k rounds finds the best element
 * that ranks after the previous pick, with a workgroup tree reduction — no sort, no scratch memory.
 */
const topkRows = defineOp<{ k: number }>({
  name: 'topk',
  outputs: ([x], { k }) => {
    if (!isFloat(x!.dtype) && x!.dtype !== 'i32')
      throw new TypeError(`topk: unsupported dtype ${x!.dtype}`);
    return [
      { shape: [x!.shape[0]!, k], dtype: x!.dtype },
      { shape: [x!.shape[0]!, k], dtype: 'i32' },
    ];
  },
  wgsl: ([x], _o, { k }, info) => {
    const [rows, cols] = x!.shape as [number, number];
    // A workgroup per row always: the k rounds share their partial results through memory.
    const plan = new RowPlan(rows, cols, info, { threadPerRow: false });
    const u = plan.uniforms(new Uniforms()).u32('k', k);
    const t = wgslType(x!.dtype);
    return {
      key: `topk:${x!.dtype}:${plan.mode}`,
      uniforms: u,
      workgroups: plan.grid(),
      code: () => `${plan.enables(t === 'f16')}${u.declaration(3)}${storageBindings(
        [['x', t]],
        [
          ['values', t],
          ['indices', 'i32'],
        ],
      )}
var<workgroup> bestV: array<f32, ${ROW_WG}>;
var<workgroup> bestI: array<i32, ${ROW_WG}>;
${RANK_WGSL}
fn better(v: f32, i: i32, w: f32, j: i32) -> bool {
  return j < 0 || (i >= 0 && (above(v, w) || (same(v, w) && i < j)));
}
${plan.header()}  var prevV = 3.4028234663852886e38;
  var prevI = -1;
  var first = true;
  for (var r = 0u; r < P.k; r++) {
    var v = 0.0;
    var idx = -1;
    for (var c = lid; c < P.cols; c += ${ROW_WG}u) {
      let e = f32(x[base + c]);
      let after = first || above(prevV, e) || (same(e, prevV) && i32(c) > prevI);
      if (after && better(e, i32(c), v, idx)) { v = e; idx = i32(c); }
    }
    bestV[lid] = v;
    bestI[lid] = idx;
    workgroupBarrier();
    for (var s = ${ROW_WG / 2}u; s > 0u; s >>= 1u) {
      if (lid < s && better(bestV[lid + s], bestI[lid + s], bestV[lid], bestI[lid])) {
        bestV[lid] = bestV[lid + s];
        bestI[lid] = bestI[lid + s];
      }
      workgroupBarrier();
    }
    prevV = bestV[0];
    prevI = bestI[0];
    first = false;
    if (lid == 0u) {
      values[row * P.k + r] = ${t}(prevV);
      indices[row * P.k + r] = prevI;
    }
    workgroupBarrier();
  }
}
`,
    };
  },
  cpu: ([x], [values, indices], { k }) => {
    const [rows, cols] = x!.shape as [number, number];
    for (let r = 0; r < rows; r++) {
      const order = Array.from({ length: cols }, (_, c) => c);
      const row = x!.data.subarray(r * cols, (r + 1) * cols);
      order.sort((a, b) => rankOrder(row[a]!, row[b]!) || a - b);
      for (let j = 0; j < k; j++) {
        values!.data[r * k + j] = row[order[j]!]!;
        indices!.data[r * k + j] = order[j]!;
      }
    }
  },
  backward: ([g], { inputs: [x], outputs: [, indices] }) => [
    g ? scatterAdd(x!.shape, 1, indices!, g) : null,
  ],
});

/**
 * The `k` largest values along `dim` (default last) and their i32 indices, largest first;
 * equal values keep their index order, and NaN ranks above every number. Like
 * `torch.topk(x, k, dim)`.
 */
export function topk(x: Tensor, k: number, dim = -1): { values: Tensor; indices: Tensor } {
  const d = normalizeAxis(dim, x.rank, 'topk');
  const size = x.shape[d] ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > size) {
    throw new RangeError(
      `topk: k must be an integer in [1, ${size}] (the size of dimension ${d}), got ${k}`,
    );
  }
  const { rows2d, restore } = asRows(x, d, 'topk');
  const [values, indices] = topkRows([rows2d], { k });
  return { values: restore(values!), indices: restore(indices!) };
}

/**
 * Index of the largest element along `dim` (first one on ties; the first NaN if there is one, as
 * in PyTorch), as i32; over all elements when omitted.
 */
export function argmax(x: Tensor, dim?: number, options: { keepDim?: boolean } = {}): Tensor {
  checkOptions('argmax', options, ['keepDim']);
  if (dim === undefined) return argmax(reshape(x, [-1]), 0, {});
  const { indices } = topk(x, 1, dim);
  if (options.keepDim) return indices;
  const shape = x.shape.filter((_, i) => i !== normalizeAxis(dim, x.rank, 'argmax'));
  return reshape(indices, shape);
}
