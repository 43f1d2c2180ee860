import type { DeviceInfo } from '@tessera/tensor-webgpu';

/**
 * Split-K (flash-decoding, Dao et al. 2023, applied to whole sequences and to the backward
 * pass). The forward gives a workgroup a block of query rows of one (batch, head), so few rows —
 * small batches, one head, short query blocks against long keys — leave most of the adapter
 * idle. Then the keys a workgroup sees are cut into `splits` ranges run in parallel (the grid's z
 * dimension); each writes its rows' normalised partial output oₛ and log-sum-exp lseₛ, and a
 * combine pass merges them exactly: lse = log Σₛ exp(lseₛ), O = Σₛ exp(lseₛ − lse)·oₛ. The dK/dV
 * pass gives a workgroup a block of key rows, so few keys against many queries idle it the same
 * way: there the queries are split, and the partial gradients summed.
 */

/** The most splits a pass takes. */
export const MAX_SPLITS = 64;

/** Workgroups a split pass aims to give a GPU: a few waves over its compute units. */
const TARGET_WORKGROUPS = 256;

/** Fewest rows (keys or queries) a split walks on a GPU: below this the combine costs more than the split saves. */
export const MIN_ROWS_PER_SPLIT = 256;

/**
 * The splits `'auto'` picks for a pass that reduces over `length` rows (keys for the forward,
 * queries for dK/dV): on a GPU, 1 where `workgroups` (the pass's grid without a split) already
 * reaches 256, else enough splits to reach it, with at least `MIN_ROWS_PER_SPLIT` rows each and
 * at most `MAX_SPLITS`. On a CPU adapter never: lavapipe runs the workgroups of a dispatch
 * one after another on one thread (1, 2 and 8 workgroups of the same work took 0.43, 0.79 and
 * 3.91 ms, alike with `LP_NUM_THREADS` 1 and 2; a split forward took the same kernel time as an
 * unsplit one, README), so a split only adds the combine pass. The CPU and wasm backends never
 * split either (each row is its own task there).
 */
export function autoSplits(length: number, workgroups: number, info: DeviceInfo): number {
  if (info.backend !== 'webgpu' || info.software) return 1;
  const wanted = Math.ceil(TARGET_WORKGROUPS / workgroups);
  const most = Math.min(MAX_SPLITS, Math.floor(length / MIN_ROWS_PER_SPLIT));
  return Math.max(1, Math.min(wanted, most));
}

/** Checks a `keySplits` or `dkvSplits` option (`name`): 'auto' or an integer 1..MAX_SPLITS. */
export function checkSplits(where: string, name: string, value: unknown): void {
  if (value === 'auto') return;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_SPLITS)
    throw new RangeError(
      `${where}: ${name} must be 'auto' or an integer from 1 to ${MAX_SPLITS}, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`,
    );
}

/**
 * WGSL `splitKeys(keys, z, step)`: split z's part of the range [keys.x, keys.y) (keys, or the
 * queries of dK/dV) cut into `P.splits` parts, each a multiple of `step` (a kernel's tile), the
 * last one shorter.
 */
export const SPLIT_KEYS_WGSL = `fn splitKeys(keys: vec2<u32>, z: u32, step: u32) -> vec2<u32> {
  let span = select(0u, keys.y - keys.x, keys.y > keys.x);
  let chunk = ((span + P.splits - 1u) / P.splits + step - 1u) / step * step;
  let lo = min(keys.x + z * chunk, keys.y);
  return vec2<u32>(lo, min(lo + chunk, keys.y));
}
`;

/**
 * WGSL `combine(row)` for `entry1d`: merges the `P.splits` partial outputs `PO`
 * ([splits, rows, headDim] f32) and log-sum-exps `PL` ([splits, rows] f32) of one query row
 * into `O` (element type `t`) and `LSE`. A split that saw no key holds lse −∞ and weighs 0; a
 * row no split saw gets O = 0 and lse −∞, as without a split.
 */
export function combineWgsl(D: number, t: string): string {
  return `fn combine(row: u32) {
  let n = P.batch * P.heads * P.sq;
  var big = -3.4028234663852886e38;
  for (var z = 0u; z < P.splits; z++) { big = max(big, PL[z * n + row]); }
  var negInf = -3.4028234663852886e38;
  negInf = negInf * 2.0; // −∞ at run time (a constant −∞ is rejected by WGSL)
  if (big < -3.0e38) {
    LSE[row] = negInf;
    for (var d = 0u; d < ${D}u; d++) { O[row * ${D}u + d] = ${t}(0.0); }
    return;
  }
  var total = 0.0;
  for (var z = 0u; z < P.splits; z++) {
    let s = PL[z * n + row];
    total += select(0.0, exp(s - big), s > -3.0e38);
  }
  let lse = big + log(total);
  LSE[row] = lse;
  var acc: array<f32, ${D}>;
  for (var z = 0u; z < P.splits; z++) {
    let s = PL[z * n + row];
    if (s > -3.0e38) {
      let w = exp(s - lse);
      let at = (z * n + row) * ${D}u;
      for (var d = 0u; d < ${D}u; d++) { acc[d] = fma(w, PO[at + d], acc[d]); }
    }
  }
  for (var d = 0u; d < ${D}u; d++) { O[row * ${D}u + d] = ${t}(acc[d]); }
}
`;
}
