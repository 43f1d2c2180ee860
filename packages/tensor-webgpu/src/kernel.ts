import type { Uniforms } from './uniforms.js';

/** Threads per workgroup for 1-D kernels. */
export const WORKGROUP = 256;

/**
 * One WebGPU dispatch of a kernel. Bindings follow one convention: inputs at 0..n-1
 * (read-only storage), outputs at n..n+m-1 (read_write storage), uniforms `P` at n+m.
 */
export interface GpuKernel {
  /** Pipeline-cache key: everything that changes the WGSL text, never the sizes. */
  readonly key: string;
  /** The WGSL source, asked for only when the key is not yet compiled. */
  readonly code: () => string;
  readonly uniforms: Uniforms;
  readonly workgroups: readonly [number, number, number];
}

/** A 1-D grid of `WORKGROUP` threads covering `n` items, folded into y past 65535 groups. */
export function grid1d(n: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / WORKGROUP));
  if (groups <= 65535) return [groups, 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}

/** WGSL lines that turn a (possibly 2-D folded) global id into a linear index `i`. */
export const LINEAR_INDEX = 'let i = gid.x + gid.y * nwg.x * WG;';

/** Storage bindings for `inputs` read-only arrays then `outputs` read_write arrays. */
export function storageBindings(
  inputs: readonly [string, string][],
  outputs: readonly [string, string][],
): string {
  const lines: string[] = [];
  inputs.forEach(([name, type], i) => {
    lines.push(`@group(0) @binding(${i}) var<storage, read> ${name}: array<${type}>;`);
  });
  outputs.forEach(([name, type], j) => {
    lines.push(
      `@group(0) @binding(${inputs.length + j}) var<storage, read_write> ${name}: array<${type}>;`,
    );
  });
  return `${lines.join('\n')}\n`;
}

/** The standard 1-D entry point header: `@compute` with the workgroup size and ids. */
export function entry1d(body: string, f16 = false): string {
  return `${f16 ? 'enable f16;\n' : ''}const WG: u32 = ${WORKGROUP}u;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  ${LINEAR_INDEX}
${body}
}
`;
}
