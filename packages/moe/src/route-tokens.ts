import {
  checkCode,
  checkError,
  checkOptions,
  checkWgsl,
  defineOp,
  entry1d,
  grid1d,
  type Tensor,
  Uniforms,
} from '@tessera/tensor-webgpu';

/**
 * Where each routed token goes, all on the device (nothing is read back):
 * - `counts` [E] i32: assignments each expert received, before the capacity cut;
 * - `offsets` [E + 1] i32: expert e's rows in the permuted buffer are offsets[e]..offsets[e+1]
 *   (its kept assignments, min(count, capacity)); offsets[E] rows are used in all;
 * - `slots` [N, k] i32: the permuted row of token t's r-th choice, or −1 when it was dropped;
 * - `rows` [N·k] i32: the assignment t·k + r each permuted row holds, −1 past offsets[E].
 */
export interface DispatchPlan {
  readonly counts: Tensor;
  readonly offsets: Tensor;
  readonly slots: Tensor;
  readonly rows: Tensor;
}

interface RouteParams {
  experts: number;
  capacity: number;
}

/** Threads of the counting workgroup (one workgroup per expert). */
const SCAN = 256;

// Assignments are visited choice-major — every token's first choice in token order, then every
// second choice — so an expert over capacity keeps first choices before second ones (GShard's
// top-2 rule) and, within a rank, earlier tokens (Switch Transformer's rule).
const routeOp = defineOp<RouteParams>({
  name: 'moe_route',
  outputs: ([indices], { experts }) => {
    if (indices!.dtype !== 'i32')
      throw new TypeError(`routeTokens: indices must be i32, got ${indices!.dtype}`);
    if (indices!.shape.length !== 2)
      throw new RangeError(
        `routeTokens: indices must be [tokens, k], got [${indices!.shape.join(', ')}]`,
      );
    const [n, k] = indices!.shape as [number, number];
    return [
      { shape: [experts], dtype: 'i32' },
      { shape: [experts + 1], dtype: 'i32' },
      { shape: [n, k], dtype: 'i32' },
      { shape: [n * k], dtype: 'i32' },
    ];
  },
  wgsl: ([indices], _o, { experts, capacity }, info) => {
    const [n, k] = indices!.shape as [number, number];
    const u = new Uniforms()
      .u32('n', n)
      .u32('k', k)
      .u32('assignments', n * k)
      .u32('experts', experts)
      .u32('capacity', capacity)
      .u32('check', checkCode('index', 'routeTokens'));
    const bindings = `${u.declaration(5)}@group(0) @binding(0) var<storage, read> indices: array<i32>;
@group(0) @binding(1) var<storage, read_write> counts: array<i32>;
@group(0) @binding(2) var<storage, read_write> offsets: array<i32>;
@group(0) @binding(3) var<storage, read_write> slots: array<i32>;
@group(0) @binding(4) var<storage, read_write> rows: array<i32>;
`;
    return [
      {
        // One workgroup per expert: each thread counts the expert's assignments in its stretch
        // of the choice-major order, a scan over the threads gives each stretch its first
        // position, and a second pass writes every assignment's position within the expert.
        key: 'moe_route:positions',
        uniforms: u,
        workgroups: [experts, 1, 1],
        code: () => `${bindings}
var<workgroup> partial: array<u32, ${SCAN}>;
fn expertAt(o: u32) -> i32 { return indices[(o % P.n) * P.k + o / P.n]; }
@compute @workgroup_size(${SCAN})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let e = i32(wid.x);
  let chunk = (P.assignments + ${SCAN - 1}u) / ${SCAN}u;
  let start = min(lid * chunk, P.assignments);
  let end = min(start + chunk, P.assignments);
  var mine = 0u;
  for (var o = start; o < end; o++) { if (expertAt(o) == e) { mine++; } }
  partial[lid] = mine;
  workgroupBarrier();
  for (var s = 1u; s < ${SCAN}u; s <<= 1u) {
    var v = 0u;
    if (lid >= s) { v = partial[lid - s]; }
    workgroupBarrier();
    partial[lid] += v;
    workgroupBarrier();
  }
  var pos = partial[lid] - mine;
  for (var o = start; o < end; o++) {
    if (expertAt(o) == e) {
      slots[(o % P.n) * P.k + o / P.n] = i32(pos);
      pos++;
    }
  }
  if (lid == ${SCAN - 1}u) { counts[e] = i32(partial[lid]); }
}
`,
      },
      {
        // The kept rows of the experts laid end to end: a prefix sum over E numbers.
        key: 'moe_route:offsets',
        uniforms: u,
        workgroups: [1, 1, 1],
        code: () => `${bindings}
@compute @workgroup_size(1)
fn main() {
  var total = 0;
  offsets[0] = 0;
  for (var e = 0u; e < P.experts; e++) {
    total += min(counts[e], i32(P.capacity));
    offsets[e + 1u] = total;
  }
}
`,
      },
      {
        // Each assignment: its row, or −1 past the capacity; each row its assignment.
        key: 'moe_route:slots',
        uniforms: u,
        workgroups: grid1d(n * k, info),
        checks: true,
        code: () =>
          `${bindings}${checkWgsl(6)}${entry1d(
            `  let used = u32(offsets[P.experts]);
  if (i >= used) { rows[i] = -1; }
  let e = indices[i];
  if (e < 0 || u32(e) >= P.experts) { report(P.check, e, P.experts); slots[i] = -1; return; }
  let pos = slots[i];
  if (u32(pos) < P.capacity) {
    let row = offsets[e] + pos;
    slots[i] = row;
    rows[row] = i32(i);
  } else {
    slots[i] = -1;
  }`,
            'P.assignments',
          )}`,
      },
    ];
  },
  cpu: ([indices], [counts, offsets, slots, rows], { experts, capacity }) => {
    const [n, k] = indices!.shape as [number, number];
    const position = new Int32Array(n * k);
    counts!.data.fill(0);
    for (let r = 0; r < k; r++) {
      for (let t = 0; t < n; t++) {
        const a = t * k + r;
        const e = indices!.data[a]!;
        if (!(e >= 0 && e < experts)) throw checkError('index', 'routeTokens', e, experts);
        position[a] = counts!.data[e]!;
        counts!.data[e]! += 1;
      }
    }
    offsets!.data[0] = 0;
    for (let e = 0; e < experts; e++)
      offsets!.data[e + 1] = offsets!.data[e]! + Math.min(counts!.data[e]!, capacity);
    rows!.data.fill(-1);
    for (let a = 0; a < n * k; a++) {
      const e = indices!.data[a]!;
      const kept = position[a]! < capacity;
      const row = offsets!.data[e]! + position[a]!;
      slots!.data[a] = kept ? row : -1;
      if (kept) rows!.data[row] = a;
    }
  },
});

/** Options of `routeTokens`. */
export interface RouteTokensOptions {
  /** Number of experts E. */
  experts: number;
  /**
   * Most assignments an expert keeps (default: the number of tokens, which drops none — every
   * token picks an expert at most once). Assignments past it are dropped, first choices kept
   * before second ones and earlier tokens before later ones.
   */
  capacity?: number;
}

/**
 * Plans the dispatch of routed tokens to experts on the device: counts per expert, the capacity
 * cut, and the permutation that puts each expert's tokens next to each other (see
 * `DispatchPlan`). Three small kernels (count and position per expert, a prefix sum, the
 * permutation); the CPU backend runs the same plan in TypeScript. Not differentiable (it only
 * moves indices).
 *
 * @param indices - [N, k] i32: the experts each token chose (from the router's top-k)
 * @throws TypeError - indices not i32, or an unknown option
 * @throws RangeError - indices not 2-D, `experts` not a positive integer, `capacity` not a
 *   non-negative integer; an expert index
 *   outside [0, E): at once on the CPU backend, at the next read-back on WebGPU
 */
export function routeTokens(indices: Tensor, options: RouteTokensOptions): DispatchPlan {
  checkOptions('routeTokens', options, ['experts', 'capacity']);
  const { experts } = options;
  if (!Number.isInteger(experts) || experts < 1)
    throw new RangeError(`routeTokens: experts must be a positive integer, got ${experts}`);
  const capacity = options.capacity ?? indices.shape[0]!;
  if (!Number.isInteger(capacity) || capacity < 0)
    throw new RangeError(
      `routeTokens: capacity must be a non-negative integer, got ${options.capacity}`,
    );
  const [counts, offsets, slots, rows] = routeOp([indices], { experts, capacity });
  return { counts: counts!, offsets: offsets!, slots: slots!, rows: rows! };
}
