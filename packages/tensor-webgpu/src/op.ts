import type { KernelRunner, TensorLayout } from './backend.js';
import type { DType } from './dtype.js';
import { isGradEnabled, noGrad } from './scope.js';
import { Tensor } from './tensor.js';

/** What an op's backward rule receives besides the output gradients. */
export interface SavedForBackward<P> {
  /** The inputs as the kernel read them: packed copies of strided ones unless `stridedInputs`. */
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  readonly params: P;
}

/**
 * One op, declared once: output shapes, the WGSL kernel, the CPU reference, optionally a wasm
 * kernel, and the gradient. This is the public custom-op API; every op of the core is declared
 * with it.
 */
export interface OpDefinition<P> extends KernelRunner<P> {
  readonly name: string;
  /** Checks inputs and params (throwing a clear error) and returns each output's shape and dtype. */
  outputs(inputs: readonly TensorLayout[], params: P): { shape: readonly number[]; dtype: DType }[];
  /**
   * Gradients of the inputs from the gradients of the outputs (null for an output that got none),
   * written with tensor ops. Omit for ops that are not differentiable.
   */
  backward?(
    grads: readonly (Tensor | null)[],
    saved: SavedForBackward<P>,
  ): readonly (Tensor | null | undefined)[];
  /**
   * Which inputs the kernel reads through their strides and offset, as they are: `true` for all,
   * or one flag per input. The others arrive contiguous (strided ones are packed first).
   */
  readonly stridedInputs?: boolean | readonly boolean[];
}

/**
 * The inputs as the kernel will read them: unless the op reads strides, packed from element 0
 * (a contiguous view at an offset, such as a slice of rows, is copied too: such kernels index
 * from the start of the buffer).
 */
function prepareInputs<P>(def: OpDefinition<P>, inputs: readonly Tensor[]): readonly Tensor[] {
  const strided = def.stridedInputs;
  return inputs.map((t, i) =>
    (t.isContiguous && t.offset === 0) || strided === true || (Array.isArray(strided) && strided[i])
      ? t
      : makeContiguous(t),
  );
}

/** A callable op: takes input tensors and params, returns the output tensors. */
export type Op<P> = (inputs: readonly Tensor[], params: P) => Tensor[];

let makeContiguous: (t: Tensor) => Tensor = () => {
  throw new Error('contiguous op not registered');
};

/** @internal The view module registers its copy op here (it is itself defined with defineOp). */
export function registerContiguous(fn: (t: Tensor) => Tensor): void {
  makeContiguous = fn;
}

/**
 * Runs an op writing into existing contiguous tensors instead of new ones — in-place updates
 * such as `copy_` and fused optimizer steps, whose kernels read and write their outputs
 * (`var<storage, read_write>`). Records no gradient: in-place updates sit outside autograd,
 * and a leaf that requires grad is refused unless grad recording is off (`noGrad`).
 */
export function runInPlace<P>(
  op: Op<P> & { definition?: OpDefinition<P> },
  inputs: readonly Tensor[],
  params: P,
  outs: readonly Tensor[],
): void {
  const def = op.definition;
  if (!def) throw new TypeError('runInPlace: op was not made by defineOp');
  for (const out of outs) {
    out.assertAlive(def.name);
    if (!out.isContiguous || out.offset !== 0) {
      throw new Error(`${def.name}_: the destination must be contiguous and start at its storage`);
    }
    if (out.requiresGrad && !out.node && isGradEnabled()) {
      throw new Error(
        `${def.name}_: in-place update of a leaf that requires grad; wrap it in noGrad()`,
      );
    }
    if (inputs.some((t) => t.storage === out.storage)) {
      throw new Error(
        `${def.name}_: a destination may not also be an input (bind it as an output and read it there)`,
      );
    }
  }
  const prepared = prepareInputs(def, inputs);
  const shapes = def.outputs(prepared, params);
  for (const [i, out] of outs.entries()) {
    const want = shapes[i];
    if (!want || want.dtype !== out.dtype || want.shape.join() !== out.shape.join()) {
      throw new RangeError(
        `${def.name}_: result ${i} ${JSON.stringify(want?.shape)} (${want?.dtype}) does not fit the destination ${JSON.stringify(out.shape)} (${out.dtype})`,
      );
    }
  }
  if (outs.some((o) => o.size > 0)) {
    const asRun = (t: Tensor) => ({ layout: t, storage: t.storage });
    outs[0]!.device.run(def, prepared.map(asRun), outs.map(asRun), params);
  }
  for (const [i, t] of prepared.entries()) if (t !== inputs[i]) t.dispose();
}

/** Declares an op; the result runs on whichever device its inputs live on. */
export function defineOp<P = undefined>(
  def: OpDefinition<P>,
): Op<P> & { definition: OpDefinition<P> } {
  return Object.assign((inputs: readonly Tensor[], params: P) => runOp(def, inputs, params), {
    definition: def,
  });
}

function runOp<P>(def: OpDefinition<P>, inputs: readonly Tensor[], params: P): Tensor[] {
  const device = inputs[0]?.device;
  for (const [i, t] of inputs.entries()) {
    if (!(t instanceof Tensor))
      throw new TypeError(`${def.name}: input ${i} is not a Tensor (got ${typeof t})`);
    t.assertAlive(def.name);
    if (t.device !== device) {
      throw new Error(
        `${def.name}: input ${i} lives on another device (${t.device.backend}) than input 0 (${device!.backend})`,
      );
    }
  }
  if (!device) throw new TypeError(`${def.name}: needs at least one input tensor`);
  const prepared = prepareInputs(def, inputs);
  const shapes = def.outputs(prepared, params);
  const outputs = shapes.map(({ shape, dtype }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return new Tensor(device, device.allocate(dtype, size), [...shape], dtype);
  });
  if (outputs.some((o) => o.size > 0)) {
    const asRun = (t: Tensor) => ({ layout: t, storage: t.storage });
    device.run(def, prepared.map(asRun), outputs.map(asRun), params);
  }
  const backward = def.backward;
  const records = backward && isGradEnabled() && inputs.some((t) => t.requiresGrad);
  // Packed copies made for the kernel are what the backward rule reads too (its kernels want
  // them packed as well): saved with the node rather than packed again in the backward pass.
  if (!records) for (const [i, t] of prepared.entries()) if (t !== inputs[i]) t.dispose();
  if (records) {
    const node = {
      name: def.name,
      inputs,
      outputs,
      backward: (grads: readonly (Tensor | null)[]) =>
        noGrad(() => backward(grads, { inputs: prepared, outputs, params })),
    };
    for (const o of outputs) {
      o.node = node;
      o.requiresGrad = true;
    }
  }
  return outputs;
}

/**
 * Disposes the temporaries a composite op made, unless autograd recorded `result`: then the
 * graph may still read them in backward, and they are freed with the graph (tidy or GC).
 */
export function releaseTemporaries(result: Tensor, ...temporaries: Tensor[]): void {
  if (result.node) return;
  for (const t of temporaries) t.dispose();
}
