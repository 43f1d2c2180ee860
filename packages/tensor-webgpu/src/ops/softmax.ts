import { isFloat, wgslType } from '../dtype.js';
import { checkOptions } from '../errors.js';
import { storageBindings } from '../kernel.js';
import { defineOp } from '../op.js';
import { noGrad } from '../scope.js';
import { normalizeAxes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from '../uniforms.js';
import { CORE_KERNELS } from '../wasm/core-kernels.js';
import { PARALLEL_MIN_WORK } from '../wasm/wasm-kernel.js';
import { add, mul, sub } from './binary.js';
import { max, sum } from './reduce.js';
import { asRows, RowPlan } from './rows.js';
import { exp, log } from './unary.js';

type Kind = 'softmax' | 'log_softmax';

/** Softmax or log-softmax of each row: max, then sum of exp, then the write — one workgroup per row. */
const softmaxRows = defineOp<{ kind: Kind }>({
  name: 'softmax_rows',
  outputs: ([x], { kind }) => {
    if (!isFloat(x!.dtype))
      throw new TypeError(`${kind}: expected a floating-point tensor, got ${x!.dtype}`);
    return [{ shape: x!.shape, dtype: x!.dtype }];
  },
  wgsl: ([x], _o, { kind }, info) => {
    const [rows, cols] = x!.shape as [number, number];
    const plan = new RowPlan(rows, cols, info);
    const u = plan.uniforms(new Uniforms());
    const t = wgslType(x!.dtype);
    return {
      key: `${kind}:${x!.dtype}:${plan.mode}`,
      uniforms: u,
      workgroups: plan.grid(),
      code: () => `${plan.enables(t === 'f16')}${u.declaration(2)}${storageBindings([['x', t]], [['y', t]])}
${plan.buffers('red')}${plan.header()}
  var mine = -3.4028234663852886e38;
  ${plan.loop()} { mine = max(mine, f32(x[base + c])); }
${plan.reduce('m', 'mine', 'max', 'red')}
  var s = 0.0;
  ${plan.loop()} {
    let e = exp(f32(x[base + c]) - m);
    s += e;
    ${kind === 'softmax' ? `y[base + c] = ${t}(e); // kept: the last pass needs no second exp` : ''}
  }
${plan.reduce('total', 's', 'sum', 'red')}
  ${plan.loop()} {
    ${kind === 'softmax' ? `y[base + c] = ${t}(f32(y[base + c]) / total);` : `y[base + c] = ${t}(f32(x[base + c]) - m - log(total));`}
  }
}
`,
    };
  },
  cpu: ([x], [y], { kind }) => {
    const [rows, cols] = x!.shape as [number, number];
    for (let r = 0; r < rows; r++) {
      const row = x!.data.subarray(r * cols, (r + 1) * cols);
      let m = Number.NEGATIVE_INFINITY;
      for (const v of row) m = Math.max(m, v);
      let total = 0;
      for (const v of row) total += Math.exp(v - m);
      for (let c = 0; c < cols; c++) {
        y!.data[r * cols + c] =
          kind === 'softmax' ? Math.exp(row[c]! - m) / total : row[c]! - m - Math.log(total);
      }
    }
  },
  wasm: ([x], [y], { kind }, context) => {
    if (x!.dtype !== 'f32') return false;
    const [rows, cols] = x!.shape as [number, number];
    context.call(
      CORE_KERNELS,
      'softmax_rows',
      [x!.address, rows, cols, y!.address, kind === 'log_softmax' ? 1 : 0],
      8 * rows * cols >= PARALLEL_MIN_WORK,
    );
    return true;
  },
  backward: ([g], { outputs: [y], params: { kind } }) => {
    if (kind === 'softmax') return [mul(y!, sub(g!, sum(mul(g!, y!), 1, { keepDim: true })))];
    return [sub(g!, mul(exp(y!), sum(g!, 1, { keepDim: true })))];
  },
});

function rowwise(kind: Kind) {
  return (x: Tensor, dim = -1): Tensor => {
    x.assertAlive(kind);
    const { rows2d, restore } = asRows(x, dim, kind);
    return restore(softmaxRows([rows2d], { kind })[0]!);
  };
}

/** Softmax along `dim` (default: the last), computed stably (max subtracted) in one kernel. */
export const softmax = rowwise('softmax');
/** Log-softmax along `dim` (default: the last), in one kernel. */
export const logSoftmax = rowwise('log_softmax');

/** `log(sum(exp(x)))` over `axes`, stable: the max is subtracted first (and gets no gradient). */
export function logsumexp(
  x: Tensor,
  axes?: number | readonly number[],
  options: { keepDim?: boolean } = {},
): Tensor {
  checkOptions('logsumexp', options, ['keepDim']);
  const list = normalizeAxes(axes, x.rank, 'logsumexp');
  const m = noGrad(() => max(x, list, { keepDim: true }));
  const lse = add(log(sum(exp(sub(x, m)), list, { keepDim: true })), m);
  return options.keepDim ? lse : sum(lse, list);
}
