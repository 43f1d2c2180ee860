/**
 * The `lanes` kernels: flash attention forward, dQ and dK/dV for CPU implementations of WebGPU
 * (lavapipe), where a subgroup is one SIMD register of 8 lanes. There a load from a storage
 * buffer costs a scalar load per lane, with a branch, whatever the address (a uniform address is
 * no cheaper), while arithmetic on registers runs 8 lanes at a time. So rows stay in registers
 * and every row streamed past them is read once per subgroup: lane l loads vec4s l, l + 8, … of
 * it — its *slice* — and values move between lanes by `subgroupBroadcast`, a register shuffle.
 *
 * Each lane owns `rows` rows (query rows; key rows for dK/dV) in two layouts:
 * - row layout, for dot products: the lane holds its rows whole, and the streamed row's vec4s are
 *   broadcast to every lane (scores q·k, dO·v);
 * - slice layout, for sums of rows: the lane holds its slice of every row of the subgroup, so a
 *   streamed row needs no broadcast — only the row's weight (p, ds) is broadcast from the lane
 *   that computed it (o += p·v, dQ += ds·k, dV += p·dO, dK += ds·q).
 * Loops over the head dimension, the lane's rows and a step's keys are unrolled into named
 * registers: a private array indexed at run time is a per-lane access too. Bindings are vec4
 * arrays, so headDim is a multiple of 4.
 */

/** Lanes of a workgroup, one subgroup (lavapipe's 256-bit SIMD registers hold 8 f32). */
export const LANES = 8;

/** Rows a lane owns, and keys (or queries) per unrolled step. */
export interface LaneTile {
  rows: number;
  step: number;
}

/**
 * The tile, measured on lavapipe (docs/profile.md): one row per lane and two keys (or queries)
 * a step. More rows per lane share each streamed load among more rows, and more keys a step
 * amortise the online-softmax rescale, but every unrolled register multiplies LLVM's compile
 * time — 4 rows × 4 keys cost 5× the CPU seconds of 1 × 4 at headDim 12 — and at [4, 1024, 64]
 * 1 × 2 runs as fast as 1 × 4 (forward + backward 0.27× against 0.42× naive in one run).
 */
export const LANE_TILE: LaneTile = { rows: 1, step: 2 };

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Shader header: subgroups, f16 when the tensors are f16. */
export function laneHeader(t: string): string {
  // The broadcasts sit in loops whose bounds come from the uniform buffer, which WGSL's
  // uniformity analysis cannot see as uniform; the diagnostic is off, as in the core's matmul.
  return `${t === 'f16' ? 'enable f16;\n' : ''}enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n`;
}

/**
 * WGSL `keyKeeps(m, doc)`: whether a key whose mask value is m is kept for a query whose own
 * |mask value| is doc — m ≠ 0 for a padding mask; with documents m > 0 and m = doc (the mask
 * contract of `maskWgsl`, with each value loaded once per subgroup instead of per pair).
 */
export const KEY_KEEPS_WGSL = `fn keyKeeps(m: f32, doc: f32) -> bool {
  if (P.documents == 1u) { return m > 0.0 && m == doc; }
  return m != 0.0;
}
`;

/** Shapes of one kernel: head dim in vec4s, slices per lane, the tile. */
interface Dims {
  D4: number;
  chunks: number;
  R: number;
  C: number;
}

function dims(D: number): Dims {
  const D4 = D / 4;
  const { rows: R, step: C } = LANE_TILE;
  return { D4, chunks: Math.ceil(D4 / LANES), R, C };
}

/**
 * A row streamed past the lanes, read as slices: `load` declares `{name}_{chunk}` (lane l reads
 * vec4 chunk·8 + l of the row at element `base` of `array`), `at(d)` broadcasts vec4 d.
 */
function streamed(x: Dims, name: string, array: string, base: string) {
  return {
    load: range(x.chunks)
      .map(
        (c) =>
          `let ${name}_${c} = vec4<f32>(${array}[${base} + min(${c * LANES}u + slot, ${x.D4 - 1}u)]);`,
      )
      .join(' '),
    at: (d: number) => `subgroupBroadcast(${name}_${Math.floor(d / LANES)}, ${d % LANES}u)`,
  };
}

/** Σ over the head dim of `row{d}` · `other(d)` (vec4s), as one f32. */
function dot(x: Dims, row: (d: number) => string, other: (d: number) => string): string {
  const v = range(x.D4).reduce((acc, d) => `fma(${row(d)}, ${other(d)}, ${acc})`, 'vec4<f32>(0.0)');
  return `dot(${v}, vec4<f32>(1.0))`;
}

/** Lines for every lane row r < R (row layout). */
const eachRow = (x: Dims, line: (r: number) => string) =>
  range(x.R)
    .map((r) => line(r))
    .join('\n');

/** Lines for every row (r, λ) of the subgroup and slice chunk c (slice layout). */
const eachSlice = (x: Dims, line: (r: number, lane: number, c: number) => string) =>
  range(x.R)
    .flatMap((r) => range(LANES).flatMap((lane) => range(x.chunks).map((c) => line(r, lane, c))))
    .join('\n');

/** `let {name}{r}_{d}` for every lane row and vec4 d, from `value(r, d)`. */
const rowRegisters = (x: Dims, name: string, value: (r: number, d: number) => string) =>
  eachRow(x, (r) =>
    range(x.D4)
      .map((d) => `  let ${name}${r}_${d} = ${value(r, d)};`)
      .join('\n'),
  );

/** Zeroed slice accumulators `{name}{r}_{λ}_{c}`. */
const sliceAccumulators = (x: Dims, name: string) =>
  eachSlice(x, (r, lane, c) => `  var ${name}${r}_${lane}_${c} = vec4<f32>(0.0);`);

/**
 * Sums streamed rows into slice accumulators: acc{r}_{λ}_{c} = acc·scale + Σ_k w·row_k, the
 * weight w of row (r, λ) broadcast from lane λ — `weight(r, k)` names it there.
 */
function accumulate(
  x: Dims,
  acc: string,
  weight: (r: number, k: number) => string,
  rows: string,
  scale?: (r: number) => string,
): string {
  const ks = range(x.C);
  return range(x.R)
    .flatMap((r) =>
      range(LANES).map((lane) => {
        const w = ks.map(
          (k) => `let w${k} = vec4<f32>(subgroupBroadcast(${weight(r, k)}, ${lane}u));`,
        );
        const s = scale ? `let sc = subgroupBroadcast(${scale(r)}, ${lane}u); ` : '';
        const sums = range(x.chunks).map((c) => {
          const start = `${acc}${r}_${lane}_${c}${scale ? ' * sc' : ''}`;
          return `${acc}${r}_${lane}_${c} = ${ks.reduce((a, k) => `fma(w${k}, ${rows}${k}_${c}, ${a})`, start)};`;
        });
        return `    { ${s}${w.join(' ')}\n      ${sums.join('\n      ')} }`;
      }),
    )
    .join('\n');
}

/**
 * Stores slice accumulators: row (r, λ) of the subgroup is row `first + 8r + λ` of `count`; each
 * lane writes its slice, multiplied by `factor(r)` broadcast from lane λ.
 */
function storeSlices(
  x: Dims,
  t: string,
  array: string,
  acc: string,
  base: string,
  count: string,
  factor: (r: number) => string,
): string {
  return range(x.R)
    .flatMap((r) =>
      range(LANES).map((lane) => {
        const stores = range(x.chunks).map((c) => {
          const d4 = `${c * LANES}u + slot`;
          const store = `${array}[(${base} + row) * ${x.D4}u + ${d4}] = vec4<${t}>(${acc}${r}_${lane}_${c} * f);`;
          return (c + 1) * LANES > x.D4 ? `if (${d4} < ${x.D4}u) { ${store} }` : store;
        });
        return `  { let row = first + ${r * LANES + lane}u; let f = subgroupBroadcast(${factor(r)}, ${lane}u);\n    if (row < ${count}) { ${stores.join(' ')} } }`;
      }),
    )
    .join('\n');
}

/**
 * `in{k}`: key `start + k` is inside [start, end); with a mask, `km{k}` is its mask value, read
 * with one load per subgroup (lane k reads key k) and broadcast.
 */
function streamedKeys(x: Dims, hasMask: boolean, start: string, end: string): string {
  const mask = hasMask
    ? `    let mk = mask[b * P.maskStride + min(${start} + min(slot, ${x.C - 1}u), P.sk - 1u)];\n`
    : '';
  return `${mask}${range(x.C)
    .map(
      (k) =>
        `    let in${k} = ${start} + ${k}u < ${end};${hasMask ? ` let km${k} = subgroupBroadcast(mk, ${k}u);` : ''}`,
    )
    .join('\n')}`;
}

/**
 * `doc{r}`: the |mask value| at lane row r's query (its document with `documentIds`, where
 * Sq = Sk: a query's aligned position is its own index), what `keyKeeps` compares keys with.
 */
const rowDocs = (x: Dims, hasMask: boolean) =>
  hasMask
    ? eachRow(x, (r) => `  let doc${r} = abs(mask[b * P.maskStride + min(at${r}, P.sk - 1u)]);`)
    : '';

/** Whether key c (streamed) is kept for lane row r (query), besides causality and the window. */
const keepKey = (hasMask: boolean, r: number, c: number) =>
  hasMask ? `in${c} && keyKeeps(km${c}, doc${r})` : `in${c}`;

/** The entry point's opening: ids, the lane's slot, the (batch, head) and the lane's rows. */
function opening(x: Dims, count: string, heads: string): string {
  const span = x.R * LANES;
  return `@compute @workgroup_size(${LANES})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) sl: u32) {
  let slot = sl % ${LANES}u;
  let bh = wid.y;
  let b = bh / ${heads};
  let first = wid.x * ${span}u;
  let last = min(first + ${span - 1}u, ${count} - 1u);
${eachRow(x, (r) => `  let row${r} = first + ${r * LANES}u + lid;\n  let at${r} = min(row${r}, ${count} - 1u);`)}`;
}

/**
 * Forward: lane rows are query rows. Per step of C keys: scores s = q·k (q pre-scaled), the
 * online softmax of each row (running max m and sum l; α rescales what was summed), and
 * o = o·α + Σ p·v in slices. Writes O = o / l and the log-sum-exp m + log l. With `split`
 * (`key-split.ts`), workgroup z walks split z of the keys and writes its partials to PO and PL
 * at split z's offset (f32), for the combine pass.
 */
export function laneForwardWgsl(D: number, t: string, hasMask: boolean, split = false): string {
  const x = dims(D);
  const ks = range(x.C);
  const k = ks.map((c) => streamed(x, `k${c}`, 'K', `kr${c}`));
  const [oArray, lseArray, oType, base] = split
    ? ['PO', 'PL', 'f32', 'zo + bh * P.sq']
    : ['O', 'LSE', t, 'bh * P.sq'];
  return `${opening(x, 'P.sq', 'P.heads')}
  let kvBase = (b * P.kvHeads + (bh % P.heads) / P.group) * P.kcap * ${x.D4}u;
  let keys = ${split ? `splitKeys(keyRange(first, last), wid.z, ${x.C}u)` : 'keyRange(first, last)'};${split ? '\n  let zo = wid.z * P.batch * P.heads * P.sq;' : ''}
${rowRegisters(x, 'q', (r, d) => `vec4<f32>(Q[(bh * P.sq + at${r}) * ${x.D4}u + ${d}u]) * P.scale`)}
${sliceAccumulators(x, 'o')}
${rowDocs(x, hasMask)}
${eachRow(x, (r) => `  var m${r} = -3.0e38;\n  var l${r} = 0.0;`)}
  for (var t = keys.x; t < keys.y; t += ${x.C}u) {
${ks.map((c) => `    let kr${c} = kvBase + min(t + ${c}u, P.sk - 1u) * ${x.D4}u;\n    ${k[c]!.load}\n    ${streamed(x, `v${c}`, 'V', `kr${c}`).load}`).join('\n')}
${streamedKeys(x, hasMask, 't', 'keys.y')}
${eachRow(
  x,
  (r) => `${ks
    .map(
      (c) =>
        `    let s${r}_${c} = select(-3.4e38, ${dot(
          x,
          (d) => `q${r}_${d}`,
          (d) => k[c]!.at(d),
        )}, ${keepKey(hasMask, r, c)} && visible(at${r}, t + ${c}u));`,
    )
    .join('\n')}
    let mn${r} = max(m${r}, ${ks.map((c) => `s${r}_${c}`).reduce((a, b) => `max(${a}, ${b})`)});
    let al${r} = exp(m${r} - mn${r});
${ks.map((c) => `    let p${r}_${c} = exp(s${r}_${c} - mn${r});`).join('\n')}
    l${r} = l${r} * al${r}${ks.map((c) => ` + p${r}_${c}`).join('')};
    m${r} = mn${r};`,
)}
${accumulate(
  x,
  'o',
  (r, c) => `p${r}_${c}`,
  'v',
  (r) => `al${r}`,
)}
  }
${eachRow(x, (r) => `  let inv${r} = select(0.0, 1.0 / l${r}, l${r} > 0.0);`)}
${storeSlices(x, oType, oArray, 'o', base, 'P.sq', (r) => `inv${r}`)}
  var negInf = -3.4028234663852886e38;
  negInf = negInf * 2.0; // −∞ at run time (a constant −∞ is rejected by WGSL)
${eachRow(x, (r) => `  if (row${r} < P.sq) { ${lseArray}[${base} + row${r}] = select(negInf, m${r} + log(l${r}), l${r} > 0.0); }`)}
}
`;
}

/**
 * dQ (FlashAttention-2 backward, recomputing p = exp(s − lse)): lane rows are query rows. Writes
 * δ = dO·O per row, then over the keys ds = p·(dO·v − δ), and dQ = scale·Σ ds·k in slices.
 */
export function laneDqWgsl(D: number, t: string, hasMask: boolean): string {
  const x = dims(D);
  const ks = range(x.C);
  const v = ks.map((c) => streamed(x, `v${c}`, 'V', `kr${c}`));
  const k = ks.map((c) => streamed(x, `k${c}`, 'K', `kr${c}`));
  const row = (r: number) => `(bh * P.sq + at${r}) * ${x.D4}u`;
  return `${opening(x, 'P.sq', 'P.heads')}
  let kvBase = (b * P.kvHeads + (bh % P.heads) / P.group) * P.kcap * ${x.D4}u;
  let keys = keyRange(first, last);
${rowRegisters(x, 'q', (r, d) => `vec4<f32>(Q[${row(r)} + ${d}u]) * P.scale`)}
${rowRegisters(x, 'g', (r, d) => `vec4<f32>(dO[${row(r)} + ${d}u])`)}
${sliceAccumulators(x, 'dq')}
${rowDocs(x, hasMask)}
${eachRow(
  x,
  (r) => `  let lse${r} = LSE[bh * P.sq + at${r}];
  let dl${r} = ${dot(
    x,
    (d) => `g${r}_${d}`,
    (d) => `vec4<f32>(O[${row(r)} + ${d}u])`,
  )};
  if (row${r} < P.sq) { DELTA[bh * P.sq + row${r}] = dl${r}; }`,
)}
  for (var t = keys.x; t < keys.y; t += ${x.C}u) {
${ks.map((c) => `    let kr${c} = kvBase + min(t + ${c}u, P.sk - 1u) * ${x.D4}u;\n    ${k[c]!.load}\n    ${v[c]!.load}`).join('\n')}
${streamedKeys(x, hasMask, 't', 'keys.y')}
${eachRow(x, (r) =>
  ks
    .map(
      (c) =>
        `    let ds${r}_${c} = select(0.0, exp(${dot(
          x,
          (d) => `q${r}_${d}`,
          (d) => k[c]!.at(d),
        )} - lse${r}) * (${dot(
          x,
          (d) => `g${r}_${d}`,
          (d) => v[c]!.at(d),
        )} - dl${r}), ${keepKey(hasMask, r, c)} && visible(at${r}, t + ${c}u));`,
    )
    .join('\n'),
)}
${accumulate(x, 'dq', (r, c) => `ds${r}_${c}`, 'k')}
  }
${storeSlices(x, t, 'dQ', 'dq', 'bh * P.sq', 'P.sq', () => 'P.scale')}
}
`;
}

/**
 * dK and dV: lane rows are key rows of one KV head. Over every query head of its group (GQA sums
 * their gradients here) and the queries that can see the workgroup's keys: p = exp(scale·q·k −
 * lse), ds = p·(dO·v − δ), then dV += p·dO and dK += scale·ds·q in slices.
 */
export function laneDkvWgsl(D: number, t: string, hasMask: boolean, split = false): string {
  const x = dims(D);
  const qs = range(x.C);
  const q = qs.map((c) => streamed(x, `q${c}`, 'Q', `qr${c}`));
  const g = qs.map((c) => streamed(x, `g${c}`, 'dO', `qr${c}`));
  const kv = (r: number) => `(bh * P.kcap + at${r}) * ${x.D4}u`;
  // With `split`, split wid.z's partial gradients, [splits, batch · kvHeads, Sk] rows of f32.
  const base = split ? '(wid.z * P.batch * P.kvHeads + bh) * P.sk' : 'bh * P.sk';
  return `${opening(x, 'P.sk', 'P.kvHeads')}
${rowRegisters(x, 'k', (r, d) => `vec4<f32>(K[${kv(r)} + ${d}u])`)}
${rowRegisters(x, 'v', (r, d) => `vec4<f32>(V[${kv(r)} + ${d}u])`)}
${sliceAccumulators(x, 'dk')}
${sliceAccumulators(x, 'dv')}
${hasMask ? eachRow(x, (r) => `  let km${r} = mask[b * P.maskStride + at${r}];`) : ''}
  let queries = ${split ? `splitKeys(queryRange(first, last), wid.z, ${x.C}u)` : 'queryRange(first, last)'};
  for (var gi = 0u; gi < P.group; gi++) {
    let qh = b * P.heads + (bh % P.kvHeads) * P.group + gi;
    for (var t = queries.x; t < queries.y; t += ${x.C}u) {
${qs.map((c) => `      let qr${c} = (qh * P.sq + min(t + ${c}u, P.sq - 1u)) * ${x.D4}u;\n      ${q[c]!.load}\n      ${g[c]!.load}`).join('\n')}
      let stat = qh * P.sq + min(t + min(slot, ${x.C - 1}u), P.sq - 1u);
      let lseLane = LSE[stat];
      let dlLane = DELTA[stat];
${hasMask ? `      let qdLane = abs(mask[b * P.maskStride + min(t + min(slot, ${x.C - 1}u), P.sk - 1u)]);` : ''}
${qs.map((c) => `      let lse${c} = subgroupBroadcast(lseLane, ${c}u);\n      let dl${c} = subgroupBroadcast(dlLane, ${c}u);${hasMask ? ` let qd${c} = subgroupBroadcast(qdLane, ${c}u);` : ''}`).join('\n')}
${eachRow(x, (r) =>
  qs
    .map(
      (c) =>
        `      let p${r}_${c} = select(0.0, exp(${dot(
          x,
          (d) => `k${r}_${d}`,
          (d) => q[c]!.at(d),
        )} * P.scale - lse${c}), ${hasMask ? `keyKeeps(km${r}, qd${c}) && ` : ''}t + ${c}u < queries.y && visible(t + ${c}u, at${r}));
      let ds${r}_${c} = p${r}_${c} * (${dot(
        x,
        (d) => `v${r}_${d}`,
        (d) => g[c]!.at(d),
      )} - dl${c});`,
    )
    .join('\n'),
)}
${accumulate(x, 'dv', (r, c) => `p${r}_${c}`, 'g')}
${accumulate(x, 'dk', (r, c) => `ds${r}_${c}`, 'q')}
    }
  }
${storeSlices(x, split ? 'f32' : t, 'dK', 'dk', base, 'P.sk', () => 'P.scale')}
${storeSlices(x, split ? 'f32' : t, 'dV', 'dv', base, 'P.sk', () => '1.0')}
}
`;
}
