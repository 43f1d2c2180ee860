import {
  type CpuTensor,
  defineOp,
  entry1d,
  grid1d,
  runInPlace,
  type Tensor,
  Uniforms,
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
}

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
