import { isFloat, wgslType } from '../dtype.js';
import { storageBindings } from '../kernel.js';
import { defineOp } from '../op.js';
import { formatShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from '../uniforms.js';
import { CORE_KERNELS } from '../wasm/core-kernels.js';
import { PARALLEL_MIN_WORK } from '../wasm/wasm-kernel.js';
import { cast } from './cast.js';
import { sum } from './reduce.js';
import { RowPlan } from './rows.js';
import { reshape } from './view.js';

type Kind = 'layer' | 'rms';
interface Params {
  kind: Kind;
  eps: number;
  weight: boolean;
  bias: boolean;
}

/** WGSL computing `mean` (0 for RMSNorm) and `rstd` of the row; f32 accumulation. */
function statsWgsl(kind: Kind, plan: RowPlan): string {
  const center = kind === 'layer';
  return `  var s = 0.0;
  ${plan.loop()} { s += f32(x[base + c]); }
${plan.reduce('total', 's', 'sum', 'red')}
  let n = f32(P.cols);
  let mean = ${center ? 'total / n' : '0.0'};
  // Two passes (not E[x²] − mean², which loses digits in f32 when |mean| ≫ std).
  var d = 0.0;
  ${plan.loop()} { let v = f32(x[base + c]) - mean; d += v * v; }
${plan.reduce('sq', 'd', 'sum', 'red')}
  let rstd = inverseSqrt(sq / n + P.eps);
`;
}

function statsCpu(row: ArrayLike<number>, kind: Kind, eps: number): [number, number] {
  const n = row.length;
  let s = 0;
  for (let c = 0; c < n; c++) s += row[c]!;
  const mean = kind === 'layer' ? s / n : 0;
  let d = 0;
  for (let c = 0; c < n; c++) d += (row[c]! - mean) ** 2;
  return [mean, 1 / Math.sqrt(d / n + eps)];
}

function inputNames(p: Params): [string, string][] {
  return [['x', ''], ...(p.weight ? [['w', '']] : []), ...(p.bias ? [['b', '']] : [])] as [
    string,
    string,
  ][];
}

/** Normalises each row and applies the optional affine weight and bias; also outputs mean and rstd. */
const normRows = defineOp<Params>({
  name: 'norm',
  outputs: ([x, ...affine], p) => {
    if (!isFloat(x!.dtype))
      throw new TypeError(`${p.kind}Norm: expected a floating-point tensor, got ${x!.dtype}`);
    const cols = x!.shape[1]!;
    for (const a of affine) {
      if (a.shape.length !== 1 || a.shape[0] !== cols) {
        throw new RangeError(
          `${p.kind}Norm: weight and bias must have shape [${cols}], got ${formatShape(a.shape)}`,
        );
      }
    }
    const rows = x!.shape[0]!;
    return [
      { shape: x!.shape, dtype: x!.dtype },
      { shape: [rows], dtype: 'f32' },
      { shape: [rows], dtype: 'f32' },
    ];
  },
  wgsl: ([x], _o, p, info) => {
    const [rows, cols] = x!.shape as [number, number];
    const plan = new RowPlan(rows, cols, info);
    const u = plan.uniforms(new Uniforms()).f32('eps', p.eps);
    const t = wgslType(x!.dtype);
    const ins = inputNames(p).map(([n]) => [n, t] as [string, string]);
    const affine = `${p.weight ? ' * f32(w[c])' : ''}${p.bias ? ' + f32(b[c])' : ''}`;
    return {
      key: `norm:${p.kind}:${x!.dtype}:${p.weight ? 'w' : ''}${p.bias ? 'b' : ''}:${plan.mode}`,
      uniforms: u,
      workgroups: plan.grid(),
      code: () => `${plan.enables(t === 'f16')}${u.declaration(ins.length + 3)}${storageBindings(
        ins,
        [
          ['y', t],
          ['means', 'f32'],
          ['rstds', 'f32'],
        ],
      )}
${plan.buffers('red')}${plan.header()}${statsWgsl(p.kind, plan)}
  ${plan.loop()} {
    y[base + c] = ${t}((f32(x[base + c]) - mean) * rstd${affine});
  }
  if (lid == 0u) { means[row] = mean; rstds[row] = rstd; }
}
`,
    };
  },
  cpu: (inputs, [y, means, rstds], p) => {
    const [x] = inputs;
    const w = p.weight ? inputs[1] : undefined;
    const b = p.bias ? inputs[p.weight ? 2 : 1] : undefined;
    const [rows, cols] = x!.shape as [number, number];
    for (let r = 0; r < rows; r++) {
      const row = x!.data.subarray(r * cols, (r + 1) * cols);
      const [mean, rstd] = statsCpu(row, p.kind, p.eps);
      means!.data[r] = mean;
      rstds!.data[r] = rstd;
      for (let c = 0; c < cols; c++) {
        y!.data[r * cols + c] =
          (row[c]! - mean) * rstd * (w ? w.data[c]! : 1) + (b ? b.data[c]! : 0);
      }
    }
  },
  wasm: (inputs, [y, means, rstds], p, context) => {
    const [x] = inputs;
    if (inputs.some((t) => t.dtype !== 'f32')) return false;
    const w = p.weight ? inputs[1]!.address : 0;
    const b = p.bias ? inputs[p.weight ? 2 : 1]!.address : 0;
    const [rows, cols] = x!.shape as [number, number];
    context.call(
      CORE_KERNELS,
      'norm_rows',
      [
        x!.address,
        w,
        b,
        rows,
        cols,
        p.eps,
        p.kind === 'layer' ? 1 : 0,
        y!.address,
        means!.address,
        rstds!.address,
      ],
      6 * rows * cols >= PARALLEL_MIN_WORK,
    );
    return true;
  },
  backward: ([g], { inputs, outputs: [, mean, rstd], params: p }) => {
    if (!g) return inputs.map(() => null);
    const [x] = inputs;
    const w = p.weight ? inputs[1]! : undefined;
    const [dx, gxhat] = normBackward([x!, ...(w ? [w] : []), g, mean!, rstd!], p);
    const grads: (Tensor | null)[] = [dx!];
    if (w) {
      const dw = sum(gxhat!, 0);
      gxhat!.dispose();
      grads.push(w.dtype === 'f32' ? dw : cast(dw, w.dtype));
    }
    if (p.bias) grads.push(sum(g, 0));
    return grads;
  },
});

/**
 * dx = rstd·(gw − mean(gw) − x̂·mean(gw·x̂)) for LayerNorm; without the mean(gw) term for RMSNorm.
 * With a weight, also g·x̂ (f32), whose column sums are the weight's gradient: x̂ is at hand in
 * the kernel, so the weight gradient costs one reduction instead of recomputing x̂ elementwise.
 */
const normBackward = defineOp<Params>({
  name: 'norm_backward',
  outputs: ([x], p) => [
    { shape: x!.shape, dtype: x!.dtype },
    ...(p.weight ? [{ shape: x!.shape, dtype: 'f32' as const }] : []),
  ],
  wgsl: ([x], _o, p, info) => {
    const [rows, cols] = x!.shape as [number, number];
    const plan = new RowPlan(rows, cols, info);
    const u = plan.uniforms(new Uniforms());
    const t = wgslType(x!.dtype);
    const ins: [string, string][] = [
      ['x', t],
      ...(p.weight ? [['w', t] as [string, string]] : []),
      ['g', t],
      ['means', 'f32'],
      ['rstds', 'f32'],
    ];
    const gw = p.weight ? 'f32(g[base + c]) * f32(w[c])' : 'f32(g[base + c])';
    const outs: [string, string][] = [
      ['dx', t],
      ...(p.weight ? [['gxhat', 'f32'] as [string, string]] : []),
    ];
    return {
      key: `norm_backward:${p.kind}:${x!.dtype}:${p.weight ? 'w' : ''}:${plan.mode}`,
      uniforms: u,
      workgroups: plan.grid(),
      code: () => `${plan.enables(t === 'f16')}${u.declaration(ins.length + outs.length)}${storageBindings(ins, outs)}
${plan.buffers('red')}${plan.header()}  let mean = means[row];
  let rstd = rstds[row];
  var a = 0.0;
  var bsum = 0.0;
  ${plan.loop()} {
    let gw = ${gw};
    a += gw;
    bsum += gw * (f32(x[base + c]) - mean) * rstd;
  }
${plan.reduce('sumGw', 'a', 'sum', 'red')}${plan.reduce('sumGwX', 'bsum', 'sum', 'red')}
  let n = f32(P.cols);
  let meanGw = ${p.kind === 'layer' ? 'sumGw / n' : '0.0'};
  let meanGwX = sumGwX / n;
  ${plan.loop()} {
    let xhat = (f32(x[base + c]) - mean) * rstd;
    dx[base + c] = ${t}(rstd * (${gw} - meanGw - xhat * meanGwX));${p.weight ? '\n    gxhat[base + c] = f32(g[base + c]) * xhat;' : ''}
  }
}
`,
    };
  },
  cpu: (inputs, [dx, gxhat], p) => {
    const x = inputs[0]!;
    const w = p.weight ? inputs[1] : undefined;
    const [g, means, rstds] = inputs.slice(p.weight ? 2 : 1);
    const [rows, cols] = x.shape as [number, number];
    for (let r = 0; r < rows; r++) {
      const mean = means!.data[r]!;
      const rstd = rstds!.data[r]!;
      let a = 0;
      let bsum = 0;
      const gw = (c: number) => g!.data[r * cols + c]! * (w ? w.data[c]! : 1);
      for (let c = 0; c < cols; c++) {
        a += gw(c);
        bsum += gw(c) * (x.data[r * cols + c]! - mean) * rstd;
      }
      const meanGw = p.kind === 'layer' ? a / cols : 0;
      for (let c = 0; c < cols; c++) {
        const xhat = (x.data[r * cols + c]! - mean) * rstd;
        dx!.data[r * cols + c] = rstd * (gw(c) - meanGw - xhat * (bsum / cols));
        if (gxhat) gxhat.data[r * cols + c] = g!.data[r * cols + c]! * xhat;
      }
    }
  },
  wasm: (inputs, [dx, gxhat], p, context) => {
    if (inputs.some((t) => t.dtype !== 'f32')) return false;
    const x = inputs[0]!;
    const w = p.weight ? inputs[1]!.address : 0;
    const [g, means, rstds] = inputs.slice(p.weight ? 2 : 1);
    const [rows, cols] = x.shape as [number, number];
    context.call(
      CORE_KERNELS,
      'norm_backward_rows',
      [
        x.address,
        w,
        g!.address,
        means!.address,
        rstds!.address,
        rows,
        cols,
        p.kind === 'layer' ? 1 : 0,
        dx!.address,
        gxhat?.address ?? 0,
      ],
      8 * rows * cols >= PARALLEL_MIN_WORK,
    );
    return true;
  },
});

function normalize(
  kind: Kind,
  x: Tensor,
  weight: Tensor | undefined,
  bias: Tensor | undefined,
  eps: number,
): Tensor {
  x.assertAlive(`${kind}Norm`);
  if (!(eps > 0)) throw new RangeError(`${kind}Norm: eps must be positive, got ${eps}`);
  const cols = x.shape[x.rank - 1] ?? 1;
  const rows2d = reshape(x, [-1, cols]);
  const affine = [weight, bias].filter((t): t is Tensor => t !== undefined);
  const [y] = normRows([rows2d, ...affine], {
    kind,
    eps,
    weight: weight !== undefined,
    bias: bias !== undefined,
  });
  return reshape(y!, x.shape);
}

/** LayerNorm over the last dimension, fused forward and backward (as `torch.nn.functional.layer_norm`). */
export function layerNorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  return normalize('layer', x, weight, bias, eps);
}

/** RMSNorm over the last dimension: `x / sqrt(mean(x²) + eps) · weight`, fused forward and backward. */
export function rmsNorm(x: Tensor, weight?: Tensor, eps = 1e-6): Tensor {
  return normalize('rms', x, weight, undefined, eps);
}
