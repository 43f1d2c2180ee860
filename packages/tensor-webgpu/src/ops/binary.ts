import type { TensorLayout } from '../backend.js';
import type { DType } from '../dtype.js';
import { defineOp, releaseTemporaries } from '../op.js';
import { broadcastShapes, type Shape, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { full } from './creation.js';
import {
  computeType,
  elementwiseCpu,
  elementwiseWasm,
  elementwiseWgsl,
} from './elementwise-kernel.js';
import { sumToShape } from './reduce.js';
import { log, neg } from './unary.js';

/** A tensor, or a number that broadcasts like a 0-d tensor of the other operand's dtype. */
export type Operand = Tensor | number;

interface BinarySpec {
  name: string;
  /** The WGSL expression, given the operands and their compute type (`f32`, `i32`, `u32`). */
  wgsl: (a: string, b: string, type: string) => string;
  cpu: (a: number, b: number) => number;
  /** Comparisons return an f32 mask of 0 and 1. */
  mask?: boolean;
  grad?: (g: Tensor, a: Tensor, b: Tensor, y: Tensor) => [Tensor | null, Tensor | null];
  /** The core wasm module's kernel for f32 (`assembly/elementwise.ts`); without one the CPU reference runs. */
  wasm?: string;
  /** The kernel for i32 operands, if there is one. */
  wasmI32?: string;
}

function sameDType(op: string, inputs: readonly TensorLayout[]): DType {
  const dtype = inputs[0]!.dtype;
  for (const t of inputs) {
    if (t.dtype !== dtype)
      throw new TypeError(
        `${op}: dtypes differ (${inputs.map((x) => x.dtype).join(' and ')}); cast one first`,
      );
  }
  return dtype;
}

/** Sums a broadcast gradient back to the shape of the operand it flows to. */
function sumTo(g: Tensor, shape: Shape): Tensor {
  return sameShape(g.shape, shape) ? g : sumToShape(g, shape);
}

/** Turns number operands into 0-d tensors on the device (and of the dtype) of the tensor operand. */
export function operands(op: string, a: Operand, b: Operand): [Tensor, Tensor] {
  if (a instanceof Tensor && b instanceof Tensor) return [a, b];
  if (a instanceof Tensor) return [a, full([], b as number, { dtype: a.dtype, device: a.device })];
  if (b instanceof Tensor) return [full([], a as number, { dtype: b.dtype, device: b.device }), b];
  throw new TypeError(
    `${op}: at least one operand must be a Tensor (got ${typeof a} and ${typeof b})`,
  );
}

function binary(spec: BinarySpec): (a: Operand, b: Operand) => Tensor {
  const grad = spec.grad;
  const op = defineOp<undefined>({
    name: spec.name,
    stridedInputs: true,
    outputs: (inputs) => {
      const dtype = sameDType(spec.name, inputs);
      return [
        {
          shape: broadcastShapes(inputs[0]!.shape, inputs[1]!.shape, spec.name),
          dtype: spec.mask ? 'f32' : dtype,
        },
      ];
    },
    wgsl: (inputs, outputs, _p, info) => {
      const type = computeType(inputs[0]!.dtype);
      const expr = (a: string, b: string) => spec.wgsl(a, b, type);
      return elementwiseWgsl(spec.name, inputs, outputs[0]!, expr, info);
    },
    cpu: (inputs, outputs) => elementwiseCpu(inputs, outputs[0]!, spec.cpu),
    wasm: (inputs, outputs, _p, context) => {
      if (inputs[0]!.dtype === 'i32' && spec.wasmI32)
        return elementwiseWasm(spec.wasmI32, inputs, outputs[0]!, context, true);
      return spec.wasm !== undefined && elementwiseWasm(spec.wasm, inputs, outputs[0]!, context);
    },
    backward: grad
      ? ([g], { inputs: [a, b], outputs: [y] }) => {
          const [ga, gb] = grad(g!, a!, b!, y!);
          return [ga && sumTo(ga, a!.shape), gb && sumTo(gb, b!.shape)];
        }
      : undefined,
  });
  return (a, b) => {
    const [ta, tb] = operands(spec.name, a, b);
    const y = op([ta, tb], undefined)[0]!;
    releaseTemporaries(y, ...[ta, tb].filter((t, i) => t !== [a, b][i]));
    return y;
  };
}

export const add = binary({
  name: 'add',
  wasm: 'binary_add',
  wgsl: (a, b) => `${a} + ${b}`,
  cpu: (a, b) => a + b,
  grad: (g) => [g, g],
});
export const sub = binary({
  name: 'sub',
  wasm: 'binary_sub',
  wgsl: (a, b) => `${a} - ${b}`,
  cpu: (a, b) => a - b,
  grad: (g) => [g, neg(g)],
});
export const mul = binary({
  name: 'mul',
  wasm: 'binary_mul',
  wgsl: (a, b) => `${a} * ${b}`,
  cpu: (a, b) => a * b,
  grad: (g, a, b) => [mul(g, b), mul(g, a)],
});
export const div = binary({
  name: 'div',
  wasm: 'binary_div',
  wgsl: (a, b) => `${a} / ${b}`,
  cpu: (a, b) => a / b,
  grad: (g, a, b) => [div(g, b), neg(div(mul(g, a), mul(b, b)))],
});
// NaN propagates (as in PyTorch); ties send half the gradient to each side, as PyTorch does.
export const maximum = binary({
  name: 'maximum',
  wasm: 'binary_maximum',
  wgsl: (a, b, type) => (type === 'f32' ? `max_nan(${a}, ${b})` : `max(${a}, ${b})`),
  cpu: Math.max,
  grad: (g, a, b) => {
    const share = add(gt(a, b), mul(eq(a, b), 0.5));
    return [mul(g, share), mul(g, sub(1, share))];
  },
});
export const minimum = binary({
  name: 'minimum',
  wasm: 'binary_minimum',
  wgsl: (a, b, type) => (type === 'f32' ? `min_nan(${a}, ${b})` : `min(${a}, ${b})`),
  cpu: Math.min,
  grad: (g, a, b) => {
    const share = add(lt(a, b), mul(eq(a, b), 0.5));
    return [mul(g, share), mul(g, sub(1, share))];
  },
});
/** Elementwise power; a negative base needs an integer exponent (else NaN), as in PyTorch. */
export const pow = binary({
  name: 'pow',
  wgsl: (a, b) => `pow_signed(${a}, ${b})`,
  cpu: (a, b) => a ** b,
  grad: (g, a, b, y) => [
    mul(g, mul(b, pow(a, sub(b, 1)))),
    // d/db a^b = a^b·ln a, taken as 0 where a <= 0 (PyTorch's convention at a = 0).
    mul(g, where(gt(a, 0), mul(y, log(a)), 0)),
  ],
});

/**
 * A comparison, IEEE 754 as in PyTorch: false when either operand is NaN, except `ne`, which is
 * true. Written with `unordered` because WGSL compilers may assume no NaN.
 */
function comparison(name: string, op: string, cpu: (a: number, b: number) => boolean) {
  const nan = op === '!=' ? 'true' : 'false';
  return binary({
    name,
    wasm: `binary_${name}`,
    wasmI32: ['eq', 'ne', 'lt', 'gt'].includes(name) ? `binary_${name}_i32` : undefined,
    wgsl: (a, b, type) =>
      `select(0.0, 1.0, ${type === 'f32' ? `select(${a} ${op} ${b}, ${nan}, unordered(${a}, ${b}))` : `${a} ${op} ${b}`})`,
    cpu: (a, b) => +cpu(a, b),
    mask: true,
  });
}

export const eq = comparison('eq', '==', (a, b) => a === b);
export const ne = comparison('ne', '!=', (a, b) => a !== b);
export const lt = comparison('lt', '<', (a, b) => a < b);
export const le = comparison('le', '<=', (a, b) => a <= b);
export const gt = comparison('gt', '>', (a, b) => a > b);
export const ge = comparison('ge', '>=', (a, b) => a >= b);

const whereOp = defineOp<undefined>({
  name: 'where',
  stridedInputs: true,
  outputs: ([c, a, b]) => {
    const dtype = sameDType('where', [a!, b!]);
    const shape = broadcastShapes(broadcastShapes(c!.shape, a!.shape, 'where'), b!.shape, 'where');
    return [{ shape, dtype }];
  },
  wgsl: (inputs, outputs, _p, info) =>
    elementwiseWgsl(
      'where',
      inputs,
      outputs[0]!,
      // A NaN condition is true (as `bool(nan)` in PyTorch).
      (c, a, b) =>
        computeType(inputs[0]!.dtype) === 'f32'
          ? `select(${b}, ${a}, is_nan(${c}) || ${c} != 0.0)`
          : `select(${b}, ${a}, ${c} != 0)`,
      info,
    ),
  cpu: (inputs, outputs) => elementwiseCpu(inputs, outputs[0]!, (c, a, b) => (c !== 0 ? a : b)),
  wasm: (inputs, outputs, _p, context) => elementwiseWasm('where', inputs, outputs[0]!, context),
  backward: ([g], { inputs: [c, a, b] }) => [
    null,
    sumTo(where(c!, g!, 0), a!.shape),
    sumTo(where(c!, 0, g!), b!.shape),
  ],
});

/** Elementwise `condition ? a : b`; a non-zero condition selects `a`. Broadcasts all three. */
export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  const ref = a instanceof Tensor ? a : b instanceof Tensor ? b : condition;
  const dtype = ref === condition ? 'f32' : ref.dtype;
  const ta = a instanceof Tensor ? a : full([], a, { dtype, device: condition.device });
  const tb = b instanceof Tensor ? b : full([], b, { dtype, device: condition.device });
  const y = whereOp([condition, ta, tb], undefined)[0]!;
  releaseTemporaries(y, ...[ta, tb].filter((t, i) => t !== [a, b][i]));
  return y;
}
