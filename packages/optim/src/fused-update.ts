import {
  type CpuTensor,
  defineOp,
  entry1d,
  grid1d,
  PARALLEL_MIN_WORK,
  runInPlace,
  sizeOf,
  type Tensor,
  Uniforms,
  type WasmModule,
  type WasmTensor,
} from '@tessera/tensor-webgpu';

/**
 * An optimizer update as one elementwise kernel: reads the gradient (and any other read-only
 * inputs) and rewrites the parameter and its state tensors in place, in a single pass over
 * memory — instead of the ~10 separate ops (and temporaries) the same update takes in tensor ops.
 */
export interface FusedUpdateSpec {
  name: string;
  /** Read-only per-element inputs, e.g. `['g']`. */
  inputs: readonly string[];
  /** Per-element tensors updated in place, the parameter first, e.g. `['p', 'm', 'v']`. */
  state: readonly string[];
  /** Scalar hyper-parameters, passed as f32 uniforms `P.<name>`. */
  scalars: readonly string[];
  /** WGSL statements for element `i`: read `g[i]`, `p[i]`, `P.lr`, ...; write the state arrays. */
  wgsl: string;
  /** The CPU reference of the same statements, for element `i`. */
  cpu: (i: number, arrays: Record<string, Float32Array>, s: Record<string, number>) => void;
  /**
   * The same update on the wasm backend (optional; without it the CPU reference runs there): an
   * export of a `WasmModule` taking `(task, tasks, ...inputs, ...state, n, ...scalars)` — byte
   * addresses of the f32 tensors in the order of `inputs` and `state`, the element count, the
   * scalars in the order of `scalars` — that updates its task's share of the n elements.
   */
  wasm?: { module: WasmModule; entry: string };
}

/** Scalar operations per element an update costs, about: a call this big runs on every thread. */
const WORK_PER_ELEMENT = 16;

/** Builds the in-place update `(inputs, state, scalars) => void` from a spec. */
export function fusedUpdate(spec: FusedUpdateSpec) {
  const op = defineOp<Record<string, number>>({
    name: spec.name,
    outputs: (inputs) => spec.state.map(() => ({ shape: inputs[0]!.shape, dtype: 'f32' as const })),
    wgsl: (inputs, _o, scalars, info) => {
      const n = inputs[0]!.shape.reduce((a, b) => a * b, 1);
      const u = new Uniforms().u32('n', n);
      for (const name of spec.scalars) u.f32(name, scalars[name]!);
      const bindings = [
        ...spec.inputs.map(
          (name, k) => `@group(0) @binding(${k}) var<storage, read> ${name}: array<f32>;`,
        ),
        ...spec.state.map(
          (name, k) =>
            `@group(0) @binding(${spec.inputs.length + k}) var<storage, read_write> ${name}: array<f32>;`,
        ),
      ].join('\n');
      return {
        key: `fused_update:${spec.name}`,
        uniforms: u,
        workgroups: grid1d(n, info),
        code: () =>
          `${u.declaration(spec.inputs.length + spec.state.length)}${bindings}\n${entry1d(spec.wgsl)}`,
      };
    },
    cpu: (inputs: readonly CpuTensor[], outputs: readonly CpuTensor[], scalars) => {
      const arrays: Record<string, Float32Array> = {};
      spec.inputs.forEach((name, k) => {
        arrays[name] = inputs[k]!.data as Float32Array;
      });
      spec.state.forEach((name, k) => {
        arrays[name] = outputs[k]!.data as Float32Array;
      });
      const n = inputs[0]!.data.length === 0 ? 0 : inputs[0]!.shape.reduce((a, b) => a * b, 1);
      for (let i = 0; i < n; i++) spec.cpu(i, arrays, scalars);
    },
    wasm: (inputs, outputs, scalars, context) => {
      if (!spec.wasm) return false;
      const n = sizeOf(inputs[0]!.shape);
      const at = (t: WasmTensor) => t.address + 4 * t.offset;
      const args = [
        ...inputs.map(at),
        ...outputs.map(at),
        n,
        ...spec.scalars.map((k) => scalars[k]!),
      ];
      context.call(
        spec.wasm.module,
        spec.wasm.entry,
        args,
        n * WORK_PER_ELEMENT >= PARALLEL_MIN_WORK,
      );
      return true;
    },
  });
  return (
    inputs: readonly Tensor[],
    state: readonly Tensor[],
    scalars: Record<string, number>,
  ): void => {
    for (const t of [...inputs, ...state]) {
      if (t.dtype !== 'f32')
        throw new TypeError(`${spec.name}: fused updates take f32 tensors, got ${t.dtype}`);
      if (t.shape.join() !== inputs[0]!.shape.join()) {
        throw new RangeError(
          `${spec.name}: tensors of shapes [${t.shape.join(', ')}] and [${inputs[0]!.shape.join(', ')}] differ`,
        );
      }
    }
    runInPlace(op, inputs, scalars, state);
  };
}
