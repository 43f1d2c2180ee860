import type { TensorLayout } from '../backend.js';
import { isFloat } from '../dtype.js';
import { checkOptions } from '../errors.js';
import { defineOp } from '../op.js';
import type { Tensor } from '../tensor.js';
import { add, div, gt, mul, sub, where } from './binary.js';
import { elementwiseCpu, elementwiseWasm, elementwiseWgsl } from './elementwise-kernel.js';

/** One unary op, declared once: WGSL expression, CPU function, gradient. */
interface UnarySpec {
  name: string;
  wgsl: (x: string) => string;
  cpu: (x: number) => number;
  /** Gradient of the input from the output gradient `g`, input `x` and output `y`. */
  grad?: (g: Tensor, x: Tensor, y: Tensor) => Tensor;
  /** Accepts integer inputs too (otherwise float only). */
  integers?: boolean;
  /** The core wasm module's kernel for f32 (`assembly/elementwise.ts`); without one the CPU reference runs. */
  wasm?: string;
}

function floatInput(name: string, integers: boolean | undefined, inputs: readonly TensorLayout[]) {
  const x = inputs[0]!;
  if (!integers && !isFloat(x.dtype)) {
    throw new TypeError(`${name}: expected a floating-point tensor (f32 or f16), got ${x.dtype}`);
  }
  return [{ shape: x.shape, dtype: x.dtype }];
}

function unary(spec: UnarySpec): (x: Tensor) => Tensor {
  const grad = spec.grad;
  const op = defineOp<undefined>({
    name: spec.name,
    stridedInputs: true,
    outputs: (inputs) => floatInput(spec.name, spec.integers, inputs),
    wgsl: (inputs, outputs, _p, info) =>
      elementwiseWgsl(spec.name, inputs, outputs[0]!, spec.wgsl, info),
    cpu: (inputs, outputs) => elementwiseCpu(inputs, outputs[0]!, spec.cpu),
    wasm: (inputs, outputs, _p, context) =>
      spec.wasm !== undefined && elementwiseWasm(spec.wasm, inputs, outputs[0]!, context),
    backward: grad ? ([g], { inputs, outputs }) => [grad(g!, inputs[0]!, outputs[0]!)] : undefined,
  });
  return (x) => op([x], undefined)[0]!;
}

/** Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), the same formula the WGSL kernels use. */
export function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const sigmoidCpu = (x: number) => 1 / (1 + Math.exp(-x));
const geluTanhInner = (x: number) => SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);

// Derivatives that have no neat expression in other ops are elementwise ops of their own.
const geluErfGrad = unary({
  name: 'gelu_erf_grad',
  wasm: 'unary_gelu_erf_grad',
  wgsl: (x) =>
    `0.5 * (1.0 + erf_approx(${x} * ${INV_SQRT_2})) + ${x} * exp(-0.5 * ${x} * ${x}) * ${INV_SQRT_2PI}`,
  cpu: (x) => 0.5 * (1 + erf(x * INV_SQRT_2)) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI,
});
const geluTanhGrad = unary({
  name: 'gelu_tanh_grad',
  wasm: 'unary_gelu_tanh_grad',
  wgsl: (x) => {
    const t = `tanh_safe(${SQRT_2_OVER_PI} * (${x} + 0.044715 * ${x} * ${x} * ${x}))`;
    return `0.5 * (1.0 + ${t}) + 0.5 * ${x} * (1.0 - ${t} * ${t}) * ${SQRT_2_OVER_PI} * (1.0 + 0.134145 * ${x} * ${x})`;
  },
  cpu: (x) => {
    const t = Math.tanh(geluTanhInner(x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 0.134145 * x * x);
  },
});
const siluGrad = unary({
  name: 'silu_grad',
  wasm: 'unary_silu_grad',
  wgsl: (x) => `(1.0 / (1.0 + exp(-${x}))) * (1.0 + ${x} * (1.0 - 1.0 / (1.0 + exp(-${x}))))`,
  cpu: (x) => sigmoidCpu(x) * (1 + x * (1 - sigmoidCpu(x))),
});
const sign = unary({ name: 'sign', wgsl: (x) => `sign(${x})`, cpu: Math.sign, integers: true });

export const neg = unary({
  name: 'neg',
  wasm: 'unary_neg',
  wgsl: (x) => `-${x}`,
  cpu: (x) => -x,
  grad: (g) => neg(g),
  integers: true,
});
export const abs = unary({
  name: 'abs',
  wasm: 'unary_abs',
  wgsl: (x) => `abs(${x})`,
  cpu: Math.abs,
  grad: (g, x) => mul(g, sign(x)),
  integers: true,
});
export const exp = unary({
  name: 'exp',
  wasm: 'unary_exp',
  wgsl: (x) => `exp(${x})`,
  cpu: Math.exp,
  grad: (g, _x, y) => mul(g, y),
});
export const log = unary({
  name: 'log',
  wasm: 'unary_log',
  wgsl: (x) => `log(${x})`,
  cpu: Math.log,
  grad: (g, x) => div(g, x),
});
export const sqrt = unary({
  name: 'sqrt',
  wasm: 'unary_sqrt',
  wgsl: (x) => `sqrt(${x})`,
  cpu: Math.sqrt,
  grad: (g, _x, y) => div(mul(g, 0.5), y),
});
export const rsqrt = unary({
  name: 'rsqrt',
  wasm: 'unary_rsqrt',
  wgsl: (x) => `inverseSqrt(${x})`,
  cpu: (x) => 1 / Math.sqrt(x),
  grad: (g, x, y) => mul(g, div(mul(y, -0.5), x)),
});
export const sin = unary({
  name: 'sin',
  wgsl: (x) => `sin(reduce_angle(${x}))`,
  cpu: Math.sin,
  grad: (g, x) => mul(g, cos(x)),
});
export const cos = unary({
  name: 'cos',
  wgsl: (x) => `cos(reduce_angle(${x}))`,
  cpu: Math.cos,
  grad: (g, x) => neg(mul(g, sin(x))),
});
export const tanh = unary({
  name: 'tanh',
  wasm: 'unary_tanh',
  wgsl: (x) => `tanh_safe(${x})`,
  cpu: Math.tanh,
  grad: (g, _x, y) => mul(g, sub(1, mul(y, y))),
});
export const sigmoid = unary({
  name: 'sigmoid',
  wasm: 'unary_sigmoid',
  wgsl: (x) => `1.0 / (1.0 + exp(-${x}))`,
  cpu: sigmoidCpu,
  grad: (g, _x, y) => mul(g, mul(y, sub(1, y))),
});
/** max(x, 0); NaN passes through, as in PyTorch. */
export const relu = unary({
  name: 'relu',
  wasm: 'unary_relu',
  wgsl: (x) => `max_nan(${x}, 0.0)`,
  cpu: (x) => Math.max(x, 0),
  grad: (g, x) => where(gt(x, 0), g, 0),
});
/** GELU, exact form `x·Φ(x)` with the error function. */
export const geluErf = unary({
  name: 'gelu_erf',
  wasm: 'unary_gelu_erf',
  wgsl: (x) => `0.5 * ${x} * (1.0 + erf_approx(${x} * ${INV_SQRT_2}))`,
  cpu: (x) => 0.5 * x * (1 + erf(x * INV_SQRT_2)),
  grad: (g, x) => mul(g, geluErfGrad(x)),
});
/** GELU, tanh approximation (GPT-2's `gelu_new`). */
export const geluTanh = unary({
  name: 'gelu_tanh',
  wasm: 'unary_gelu_tanh',
  wgsl: (x) =>
    `0.5 * ${x} * (1.0 + tanh_safe(${SQRT_2_OVER_PI} * (${x} + 0.044715 * ${x} * ${x} * ${x})))`,
  cpu: (x) => 0.5 * x * (1 + Math.tanh(geluTanhInner(x))),
  grad: (g, x) => mul(g, geluTanhGrad(x)),
});
export const silu = unary({
  name: 'silu',
  wasm: 'unary_silu',
  wgsl: (x) => `${x} / (1.0 + exp(-${x}))`,
  cpu: (x) => x * sigmoidCpu(x),
  grad: (g, x) => mul(g, siluGrad(x)),
});
export const square = unary({
  name: 'square',
  wasm: 'unary_square',
  wgsl: (x) => `${x} * ${x}`,
  cpu: (x) => x * x,
  grad: (g, x) => mul(g, add(x, x)),
  integers: true,
});

/** GELU; `approximate: 'tanh'` selects the tanh form, as in PyTorch. */
export function gelu(x: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  checkOptions('gelu', options, ['approximate']);
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new TypeError(
      `gelu: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`,
    );
  }
  return approximate === 'tanh' ? geluTanh(x) : geluErf(x);
}
