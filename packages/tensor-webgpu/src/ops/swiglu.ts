import type { TensorLayout } from '../backend.js';
import { isFloat, wgslType } from '../dtype.js';
import { entry1d, grid1d, storageBindings } from '../kernel.js';
import { defineOp } from '../op.js';
import { formatShape, sameShape, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { Uniforms } from '../uniforms.js';
import { CORE_KERNELS } from '../wasm/core-kernels.js';
import { PARALLEL_MIN_WORK } from '../wasm/wasm-kernel.js';
import { elementwiseCpu, elementwiseWasm, elementwiseWgsl } from './elementwise-kernel.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function checkPair([gate, up]: readonly TensorLayout[]): void {
  if (!sameShape(gate!.shape, up!.shape))
    throw new RangeError(
      `swiglu: gate ${formatShape(gate!.shape)} and up ${formatShape(up!.shape)} must have the same shape`,
    );
  if (gate!.dtype !== up!.dtype || !isFloat(gate!.dtype))
    throw new TypeError(
      `swiglu: expected two floating-point tensors of one dtype, got ${gate!.dtype} and ${up!.dtype}`,
    );
}

/** d gate = g·up·silu′(gate) and d up = g·silu(gate), both in one pass over the three inputs. */
const swigluBackward = defineOp<undefined>({
  name: 'swiglu_backward',
  outputs: ([gate]) => [
    { shape: gate!.shape, dtype: gate!.dtype },
    { shape: gate!.shape, dtype: gate!.dtype },
  ],
  wgsl: ([gate], _o, _p, info) => {
    const n = sizeOf(gate!.shape);
    const t = wgslType(gate!.dtype);
    const u = new Uniforms().u32('n', n);
    const ins: [string, string][] = [
      ['gate', t],
      ['up', t],
      ['gy', t],
    ];
    return {
      key: `swiglu_backward:${gate!.dtype}`,
      uniforms: u,
      workgroups: grid1d(n, info),
      code: () =>
        `${t === 'f16' ? 'enable f16;\n' : ''}${u.declaration(5)}${storageBindings(ins, [
          ['dgate', t],
          ['dup', t],
        ])}${entry1d(`  if (i >= P.n) { return; }
  let x = f32(gate[i]);
  let s = 1.0 / (1.0 + exp(-x));
  let g = f32(gy[i]);
  dgate[i] = ${t}(g * f32(up[i]) * s * (1.0 + x * (1.0 - s)));
  dup[i] = ${t}(g * x * s);`)}`,
    };
  },
  cpu: ([gate, up, gy], [dgate, dup]) => {
    for (let i = 0; i < dgate!.data.length; i++) {
      const x = gate!.data[i]!;
      const s = sigmoid(x);
      dgate!.data[i] = gy!.data[i]! * up!.data[i]! * s * (1 + x * (1 - s));
      dup!.data[i] = gy!.data[i]! * x * s;
    }
  },
  wasm: ([gate, up, gy], [dgate, dup], _p, context) => {
    if (gate!.dtype !== 'f32') return false;
    const n = sizeOf(gate!.shape);
    context.call(
      CORE_KERNELS,
      'swiglu_backward',
      [gate!.address, up!.address, gy!.address, n, dgate!.address, dup!.address],
      8 * n >= PARALLEL_MIN_WORK,
    );
    return true;
  },
});

const swigluOp = defineOp<undefined>({
  name: 'swiglu',
  stridedInputs: true,
  outputs: (inputs) => {
    checkPair(inputs);
    return [{ shape: inputs[0]!.shape, dtype: inputs[0]!.dtype }];
  },
  wgsl: (inputs, [y], _p, info) =>
    elementwiseWgsl('swiglu', inputs, y!, (a, b) => `${a} / (1.0 + exp(-${a})) * ${b}`, info),
  cpu: (inputs, [y]) => elementwiseCpu(inputs, y!, (a, b) => a * sigmoid(a) * b),
  wasm: (inputs, [y], _p, context) => elementwiseWasm('binary_swiglu', inputs, y!, context),
  backward: ([g], { inputs: [gate, up] }) => swigluBackward([gate!, up!, g!], undefined),
});

/**
 * silu(gate) · up — the gated activation of a SwiGLU feed-forward layer (Shazeer 2020; Llama) —
 * in one kernel, and its backward in one kernel that writes both gradients, instead of an
 * activation, a product and four elementwise passes back.
 */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  return swigluOp([gate, up], undefined)[0]!;
}
