import {
  defineOp,
  entry1d,
  grid1d,
  type Op,
  storageBindings,
  type Tensor,
  type TensorLayout,
  Uniforms,
} from '@tessera/tensor-webgpu';
import type { DispatchPlan } from './route-tokens.js';

// Moving tokens between token order [N, d] and expert order [R, d] (R = N·k rows, see
// `DispatchPlan`). The two directions are each other's adjoint, so each op's backward is the
// other, and the routing weights' gradient is a row-by-row dot product (`pairDot`).

function checkIndexTensor(op: string, name: string, t: TensorLayout): void {
  if (t.dtype !== 'i32') throw new TypeError(`${op}: ${name} must be i32, got ${t.dtype}`);
}

function checkData(op: string, name: string, t: TensorLayout): void {
  if (t.dtype !== 'f32') throw new TypeError(`${op}: ${name} must be f32, got ${t.dtype}`);
  if (t.shape.length !== 2)
    throw new RangeError(`${op}: ${name} must be 2-D, got [${t.shape.join(', ')}]`);
}

/** Checks the plan's slots [N, k] and rows [N·k] against N, and the weights' shape. */
function checkPlan(
  op: string,
  n: number,
  rows: TensorLayout,
  slots: TensorLayout,
  w?: TensorLayout,
) {
  checkIndexTensor(op, 'rows', rows);
  checkIndexTensor(op, 'slots', slots);
  const [sn, k] = slots.shape as [number, number];
  if (slots.shape.length !== 2 || sn !== n || rows.shape.length !== 1 || rows.shape[0] !== n * k)
    throw new RangeError(
      `${op}: slots [${slots.shape.join(', ')}] and rows [${rows.shape.join(', ')}] do not fit ${n} tokens`,
    );
  if (w && (w.dtype !== 'f32' || w.shape.join() !== slots.shape.join()))
    throw new RangeError(
      `${op}: weights must be f32 [${slots.shape.join(', ')}], got ${w.dtype} [${w.shape.join(', ')}]`,
    );
  return k;
}

/** Threads of a row kernel's workgroup; they stride over the row's columns. */
const ROW_THREADS = 64;

/**
 * Workgroups for a kernel that walks `rows` rows with a grid stride, a workgroup per row at a
 * time: at most 64 on CPU implementations of WebGPU (each workgroup costs a fixed overhead
 * there), else one per row up to WebGPU's limit.
 */
function rowGrid(rows: number, info: { software: boolean }): [number, number, number] {
  return [Math.max(1, Math.min(rows, info.software ? 64 : 65535)), 1, 1];
}

/**
 * The entry point of a row kernel: `body` runs for each `row` below `P.rows` (`continue` skips
 * to the next), with `lid` the thread's column offset. Index arithmetic happens once per row:
 * an integer division per element would cost more than the copy on a CPU driver, where vector
 * units have no integer divide.
 */
function rowLoop(body: string): string {
  return `@compute @workgroup_size(${ROW_THREADS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  for (var row = wid.x; row < P.rows; row += nwg.x) {
${body}
  }
}
`;
}

interface MoveParams {
  weighted: boolean;
}

/** xs[row] = w[a] · x[a / k] for the assignment a = rows[row]; zero for an unused row. */
const dispatchOp: Op<MoveParams> = defineOp<MoveParams>({
  name: 'moe_dispatch',
  outputs: ([x, rows, slots, w]) => {
    checkData('dispatchTokens', 'x', x!);
    checkPlan('dispatchTokens', x!.shape[0]!, rows!, slots!, w);
    return [{ shape: [rows!.shape[0]!, x!.shape[1]!], dtype: 'f32' }];
  },
  wgsl: ([x, rows, slots], _o, { weighted }, info) => {
    const [, d] = x!.shape as [number, number];
    const r = rows!.shape[0]!;
    const u = new Uniforms().u32('rows', r).u32('d', d).u32('k', slots!.shape[1]!);
    const inputs: [string, string][] = [
      ['x', 'f32'],
      ['rows', 'i32'],
      ['slots', 'i32'],
    ];
    if (weighted) inputs.push(['w', 'f32']);
    return {
      key: `moe_dispatch:${weighted ? 'w' : '1'}`,
      uniforms: u,
      workgroups: rowGrid(r, info),
      code: () =>
        `${u.declaration(inputs.length + 1)}${storageBindings(inputs, [['xs', 'f32']])}${rowLoop(`    let a = rows[row];
    let dst = row * P.d;
    if (a < 0) {
      for (var c = lid; c < P.d; c += ${ROW_THREADS}u) { xs[dst + c] = 0.0; }
      continue;
    }
    let src = (u32(a) / P.k) * P.d;
    let scale = ${weighted ? 'w[a]' : '1.0'};
    for (var c = lid; c < P.d; c += ${ROW_THREADS}u) { xs[dst + c] = x[src + c] * scale; }`)}`,
    };
  },
  cpu: ([x, rows, slots, w], [xs]) => {
    const d = x!.shape[1]!;
    const k = slots!.shape[1]!;
    for (let row = 0; row < rows!.shape[0]!; row++) {
      const a = rows!.data[row]!;
      for (let c = 0; c < d; c++) {
        xs!.data[row * d + c] =
          a < 0 ? 0 : x!.data[Math.floor(a / k) * d + c]! * (w ? w.data[a]! : 1);
      }
    }
  },
  backward: ([g], { inputs: [x, rows, slots, w], params: { weighted } }): (Tensor | null)[] => {
    const gx = combineOp([g!, rows!, slots!, ...(weighted ? [w!] : [])], { weighted })[0]!;
    if (!weighted) return [gx, null, null];
    return [gx, null, null, w!.requiresGrad ? pairDotOp([x!, g!, slots!], undefined)[0]! : null];
  },
});

/** y[t] = Σ_r w[t, r] · ys[slots[t, r]] over the kept choices of token t. */
const combineOp: Op<MoveParams> = defineOp<MoveParams>({
  name: 'moe_combine',
  outputs: ([ys, rows, slots, w]) => {
    checkData('combineTokens', 'ys', ys!);
    const n = slots!.shape[0]!;
    const k = checkPlan('combineTokens', n, rows!, slots!, w);
    if (ys!.shape[0] !== n * k)
      throw new RangeError(
        `combineTokens: ys has ${ys!.shape[0]} rows, the plan ${n * k} (tokens × k)`,
      );
    return [{ shape: [n, ys!.shape[1]!], dtype: 'f32' }];
  },
  wgsl: ([ys, , slots], _o, { weighted }, info) => {
    const d = ys!.shape[1]!;
    const [n, k] = slots!.shape as [number, number];
    const u = new Uniforms().u32('rows', n).u32('d', d).u32('k', k);
    const inputs: [string, string][] = [
      ['ys', 'f32'],
      ['rows', 'i32'],
      ['slots', 'i32'],
    ];
    if (weighted) inputs.push(['w', 'f32']);
    return {
      key: `moe_combine:${weighted ? 'w' : '1'}`,
      uniforms: u,
      workgroups: rowGrid(n, info),
      code: () =>
        `${u.declaration(inputs.length + 1)}${storageBindings(inputs, [['y', 'f32']])}${rowLoop(`    for (var c = lid; c < P.d; c += ${ROW_THREADS}u) {
      var acc = 0.0;
      for (var r = 0u; r < P.k; r++) {
        let a = row * P.k + r;
        let s = slots[a];
        if (s >= 0) { acc += ${weighted ? 'w[a] * ' : ''}ys[u32(s) * P.d + c]; }
      }
      y[row * P.d + c] = acc;
    }`)}`,
    };
  },
  cpu: ([ys, , slots, w], [y]) => {
    const d = ys!.shape[1]!;
    const [n, k] = slots!.shape as [number, number];
    for (let t = 0; t < n; t++) {
      for (let c = 0; c < d; c++) {
        let acc = 0;
        for (let r = 0; r < k; r++) {
          const s = slots!.data[t * k + r]!;
          if (s >= 0) acc += (w ? w.data[t * k + r]! : 1) * ys!.data[s * d + c]!;
        }
        y!.data[t * d + c] = acc;
      }
    }
  },
  backward: ([g], { inputs: [ys, rows, slots, w], params: { weighted } }): (Tensor | null)[] => {
    const gys = dispatchOp([g!, rows!, slots!, ...(weighted ? [w!] : [])], { weighted })[0]!;
    if (!weighted) return [gys, null, null];
    return [gys, null, null, w!.requiresGrad ? pairDotOp([g!, ys!, slots!], undefined)[0]! : null];
  },
});

/** out[t, r] = ⟨a[t], b[slots[t, r]]⟩, zero for a dropped choice: the routing weights' gradient. */
const pairDotOp = defineOp({
  name: 'moe_pair_dot',
  outputs: ([a, b, slots]) => {
    checkData('pairDot', 'a', a!);
    checkData('pairDot', 'b', b!);
    checkIndexTensor('pairDot', 'slots', slots!);
    if (a!.shape[1] !== b!.shape[1])
      throw new RangeError(`pairDot: widths differ (${a!.shape[1]} and ${b!.shape[1]})`);
    return [{ shape: slots!.shape, dtype: 'f32' }];
  },
  wgsl: ([a, , slots], _o, _p, info) => {
    const [n, k] = slots!.shape as [number, number];
    const u = new Uniforms()
      .u32('n', n * k)
      .u32('d', a!.shape[1]!)
      .u32('k', k);
    return {
      key: 'moe_pair_dot',
      uniforms: u,
      workgroups: grid1d(n * k, info),
      code: () =>
        `${u.declaration(4)}${storageBindings(
          [
            ['a', 'f32'],
            ['b', 'f32'],
            ['slots', 'i32'],
          ],
          [['dots', 'f32']],
        )}${entry1d(`  let s = slots[i];
  if (s < 0) { dots[i] = 0.0; return; }
  let at = (i / P.k) * P.d;
  let bt = u32(s) * P.d;
  var acc = 0.0;
  for (var c = 0u; c < P.d; c++) { acc = fma(a[at + c], b[bt + c], acc); }
  dots[i] = acc;`)}`,
    };
  },
  cpu: ([a, b, slots], [out]) => {
    const d = a!.shape[1]!;
    const k = slots!.shape[1]!;
    for (let i = 0; i < out!.data.length; i++) {
      const s = slots!.data[i]!;
      let acc = 0;
      if (s >= 0)
        for (let c = 0; c < d; c++)
          acc += a!.data[Math.floor(i / k) * d + c]! * b!.data[s * d + c]!;
      out!.data[i] = acc;
    }
  },
});

/**
 * Permutes tokens into expert order: row `j` of the result [N·k, d] is the token of the
 * assignment `plan.rows[j]` (experts' rows end to end, as `plan.offsets` says), zero past the
 * used rows. The gradient sums each token's rows back (`combineTokens` without weights).
 *
 * @param x - [N, d] f32 tokens
 * @throws TypeError - x not f32, or plan tensors not i32
 * @throws RangeError - x not 2-D, or a plan made for another number of tokens
 */
export function dispatchTokens(x: Tensor, plan: DispatchPlan): Tensor {
  return dispatchOp([x, plan.rows, plan.slots], { weighted: false })[0]!;
}

/**
 * Un-permutes expert outputs and combines them with the routing weights:
 * y[t] = Σ_r weights[t, r] · ys[plan.slots[t, r]] over token t's kept choices; a token whose
 * every choice was dropped gets zeros (in a residual block it passes through unchanged).
 * Differentiable in `ys` and `weights`.
 *
 * @param ys - [N·k, d] f32 expert outputs in expert order (as `dispatchTokens` laid them out)
 * @param weights - [N, k] f32 routing weights
 * @throws TypeError - ys or weights not f32, plan tensors not i32
 * @throws RangeError - shapes that do not fit the plan
 */
export function combineTokens(ys: Tensor, plan: DispatchPlan, weights: Tensor): Tensor {
  return combineOp([ys, plan.rows, plan.slots, weights], { weighted: true })[0]!;
}
