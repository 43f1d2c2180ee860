import type { TensorLayout } from '../backend.js';
import type { DeviceInfo } from '../device.js';
import { checkCode, checkError, checkWgsl } from '../device-checks.js';
import { isFloat, wgslType } from '../dtype.js';
import { checkOptions } from '../errors.js';
import { type GpuKernel, storageBindings } from '../kernel.js';
import { defineOp } from '../op.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from '../uniforms.js';
import { CORE_KERNELS } from '../wasm/core-kernels.js';
import { PARALLEL_MIN_WORK } from '../wasm/wasm-kernel.js';
import { div, ne } from './binary.js';
import { sum } from './reduce.js';
import { RowPlan } from './rows.js';
import { reshape } from './view.js';

interface Params {
  ignoreIndex: number;
  labelSmoothing: number;
}

function checkInputs(
  logits: { shape: readonly number[]; dtype: string },
  targets: { shape: readonly number[]; dtype: string },
) {
  if (!isFloat(logits.dtype as 'f32'))
    throw new TypeError(`crossEntropy: logits must be floating-point, got ${logits.dtype}`);
  if (targets.dtype !== 'i32')
    throw new TypeError(`crossEntropy: targets must be i32 class indices, got ${targets.dtype}`);
  if (
    logits.shape.length !== 2 ||
    targets.shape.length !== 1 ||
    targets.shape[0] !== logits.shape[0]
  ) {
    throw new RangeError(
      `crossEntropy: logits [N, C] and targets [N] expected (got ${formatShape(logits.shape)} and ${formatShape(targets.shape)})`,
    );
  }
}

/** Shared WGSL: the row's max, log-sum-exp and (for label smoothing) sum of logits. */
function rowStats(plan: RowPlan): string {
  return `  var mine = -3.4028234663852886e38;
  ${plan.loop()} { mine = max(mine, f32(x[base + c])); }
${plan.reduce('m', 'mine', 'max', 'red')}
  var s = 0.0;
  var xs = 0.0;
  ${plan.loop()} { let v = f32(x[base + c]); s += exp(v - m); xs += v; }
${plan.reduce('sumExp', 's', 'sum', 'red')}${plan.reduce('xsum', 'xs', 'sum', 'red')}
  let lse = m + log(sumExp);
  let tgt = targets[row];
  let ignored = tgt == P.ignore;
  let valid = tgt >= 0 && u32(tgt) < P.cols;
`;
}

/**
 * A cross-entropy row kernel: inputs x (logits) and targets, plus `extra` inputs; the shared row
 * statistics (max, log-sum-exp, sum of logits, target checks), then `body`. With `checks`, the
 * kernel may `report` a target out of range (see device-checks.ts).
 */
function crossEntropyKernel(
  name: string,
  x: TensorLayout,
  p: Params,
  info: DeviceInfo,
  extra: [string, string][],
  outputs: (t: string) => [string, string][],
  body: (plan: RowPlan, t: string) => string,
  checks = false,
): GpuKernel {
  const [rows, cols] = x.shape as [number, number];
  const plan = new RowPlan(rows, cols, info);
  const u = plan
    .uniforms(new Uniforms())
    .i32('ignore', p.ignoreIndex)
    .f32('eps', p.labelSmoothing)
    .u32('check', checkCode('target', 'crossEntropy'));
  const t = wgslType(x.dtype);
  const inputs: [string, string][] = [['x', t], ['targets', 'i32'], ...extra];
  const bindings = inputs.length + outputs(t).length;
  return {
    key: `${name}:${x.dtype}:${plan.mode}`,
    uniforms: u,
    workgroups: plan.grid(),
    checks,
    code: () =>
      `${plan.enables(t === 'f16')}${u.declaration(bindings)}${storageBindings(inputs, outputs(t))}${checks ? checkWgsl(bindings + 1) : ''}
${plan.buffers('red')}${plan.header()}${rowStats(plan)}${body(plan, t)}}
`,
  };
}

/**
 * Per-row loss: (1-ε)(lse - x[t]) + ε(lse - mean(x)); 0 for ignored rows. A target out of range
 * is an error (reported from the device on WebGPU; the row reads NaN until it is raised).
 */
const crossEntropyRows = defineOp<Params>({
  name: 'cross_entropy',
  outputs: ([logits, targets]) => {
    checkInputs(logits!, targets!);
    return [{ shape: [logits!.shape[0]!], dtype: 'f32' }];
  },
  wgsl: ([x], _o, p, info) =>
    crossEntropyKernel(
      'cross_entropy',
      x!,
      p,
      info,
      [],
      () => [['loss', 'f32']],
      () => `  if (lid == 0u) {
    if (ignored) { loss[row] = 0.0; }
    else if (!valid) { report(P.check, tgt, P.cols); var z = 0.0; loss[row] = z / z; }
    else {
      let xt = f32(x[base + u32(tgt)]);
      loss[row] = (1.0 - P.eps) * (lse - xt) + P.eps * (lse - xsum / f32(P.cols));
    }
  }
`,
      true,
    ),
  cpu: ([x, targets], [loss], { ignoreIndex, labelSmoothing: eps }) => {
    const [rows, cols] = x!.shape as [number, number];
    for (let r = 0; r < rows; r++) {
      const row = x!.data.subarray(r * cols, (r + 1) * cols);
      const t = targets!.data[r]!;
      if (t === ignoreIndex) {
        loss!.data[r] = 0;
        continue;
      }
      if (t < 0 || t >= cols) throw checkError('target', 'crossEntropy', t, cols);
      let m = Number.NEGATIVE_INFINITY;
      let total = 0;
      for (const v of row) m = Math.max(m, v);
      let s = 0;
      for (const v of row) {
        s += Math.exp(v - m);
        total += v;
      }
      const lse = m + Math.log(s);
      loss!.data[r] = (1 - eps) * (lse - row[t]!) + eps * (lse - total / cols);
    }
  },
  wasm: ([x, targets], [loss], { ignoreIndex, labelSmoothing }, context) => {
    if (x!.dtype !== 'f32') return false;
    const [rows, cols] = x!.shape as [number, number];
    // The kernel keeps the first row whose target is out of range here (none: the i32 maximum).
    const failed = context.table([0x7fffffff]);
    context.call(
      CORE_KERNELS,
      'cross_entropy_rows',
      [
        x!.address,
        targets!.address,
        rows,
        cols,
        ignoreIndex,
        labelSmoothing,
        loss!.address,
        failed,
      ],
      12 * rows * cols >= PARALLEL_MIN_WORK,
    );
    const row = context.words(failed, 1)[0]!;
    if (row !== 0x7fffffff) {
      const target = context.words(targets!.address + 4 * row, 1)[0]!;
      throw checkError('target', 'crossEntropy', target, cols);
    }
    return true;
  },
  backward: ([g], { inputs: [x, targets], params }) => [
    crossEntropyGrad([x!, targets!, g!], params)[0]!,
    null,
  ],
});

/** d loss_r / d logits = g_r · (softmax - (1-ε)·onehot(t) - ε/C), zero for ignored rows. */
const crossEntropyGrad = defineOp<Params>({
  name: 'cross_entropy_backward',
  outputs: ([x]) => [{ shape: x!.shape, dtype: x!.dtype }],
  wgsl: ([x], _o, p, info) =>
    crossEntropyKernel(
      'cross_entropy_backward',
      x!,
      p,
      info,
      [['g', 'f32']],
      (t) => [['dx', t]],
      (plan, t) => `  let scale = select(g[row], 0.0, ignored);
  ${plan.loop()} {
    let p = exp(f32(x[base + c]) - lse);
    let hit = select(0.0, 1.0 - P.eps, valid && i32(c) == tgt);
    dx[base + c] = ${t}(scale * (p - hit - P.eps / f32(P.cols)));
  }
`,
    ),
  cpu: ([x, targets, g], [dx], { ignoreIndex, labelSmoothing: eps }) => {
    const [rows, cols] = x!.shape as [number, number];
    for (let r = 0; r < rows; r++) {
      const row = x!.data.subarray(r * cols, (r + 1) * cols);
      const t = targets!.data[r]!;
      const scale = t === ignoreIndex ? 0 : g!.data[r]!;
      let m = Number.NEGATIVE_INFINITY;
      for (const v of row) m = Math.max(m, v);
      let s = 0;
      for (const v of row) s += Math.exp(v - m);
      const lse = m + Math.log(s);
      for (let c = 0; c < cols; c++) {
        const hit = c === t ? 1 - eps : 0;
        dx!.data[r * cols + c] = scale * (Math.exp(row[c]! - lse) - hit - eps / cols);
      }
    }
  },
  wasm: ([x, targets, g], [dx], { ignoreIndex, labelSmoothing }, context) => {
    if (x!.dtype !== 'f32') return false;
    const [rows, cols] = x!.shape as [number, number];
    context.call(
      CORE_KERNELS,
      'cross_entropy_backward_rows',
      [
        x!.address,
        targets!.address,
        g!.address,
        rows,
        cols,
        ignoreIndex,
        labelSmoothing,
        dx!.address,
      ],
      12 * rows * cols >= PARALLEL_MIN_WORK,
    );
    return true;
  },
});

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (no loss, no gradient, not counted). Default -100. */
  ignoreIndex?: number;
  /** Mixes the one-hot target with the uniform distribution, as PyTorch. Default 0. */
  labelSmoothing?: number;
  /** `mean` over non-ignored targets (default), `sum`, or `none` (per-target losses). */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy of `logits` [..., C] against i32 class `targets` [...], fused: the softmax is
 * never materialised, forward or backward. Matches `torch.nn.functional.cross_entropy`.
 *
 * @param logits - [..., C] f32 or f16
 * @param targets - [...] i32 class indices in [0, C), or `ignoreIndex`
 * @param options - `ignoreIndex` (default -100), `labelSmoothing` (default 0), `reduction`
 *   (default `mean`)
 * @throws RangeError - a target outside [0, C) that is not `ignoreIndex`, as PyTorch raises: at
 *   once on the CPU backend, at the next read-back or `sync()` on WebGPU (same message)
 */
export function crossEntropy(
  logits: Tensor,
  targets: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  checkOptions('crossEntropy', options, ['ignoreIndex', 'labelSmoothing', 'reduction']);
  const ignoreIndex = options.ignoreIndex ?? -100;
  const labelSmoothing = options.labelSmoothing ?? 0;
  const reduction = options.reduction ?? 'mean';
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  }
  if (!['mean', 'sum', 'none'].includes(reduction)) {
    throw new TypeError(
      `crossEntropy: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(reduction)}`,
    );
  }
  if (logits.rank < 1 || targets.shape.join() !== logits.shape.slice(0, -1).join()) {
    throw new RangeError(
      `crossEntropy: targets shape must be the logits shape without its last dimension (got ${formatShape(logits.shape)} and ${formatShape(targets.shape)})`,
    );
  }
  const classes = logits.shape[logits.rank - 1]!;
  const flat = reshape(logits, [-1, classes]);
  const flatTargets = reshape(targets, [-1]);
  const perRow = crossEntropyRows([flat, flatTargets], { ignoreIndex, labelSmoothing })[0]!;
  if (reduction === 'none') return reshape(perRow, targets.shape);
  const total = sum(perRow);
  if (reduction === 'sum') return total;
  // As PyTorch: the mean is over non-ignored targets (NaN when every target is ignored).
  return div(total, sum(ne(flatTargets, ignoreIndex)));
}
