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
  /**
   * The kernel checks its data (`checkWgsl`): the device's check buffer is bound after the
   * uniforms, at binding n+m+1, and a failure it records is raised at the next read-back.
   */
  readonly checks?: boolean;
}

/**
 * Workgroups for a 1-D kernel over `n` items. Kernels loop with a grid stride, so the grid can be
 * capped: on CPU implementations of WebGPU (`info.software`) each workgroup costs a fixed
 * overhead and 64 groups run about twice as fast as one per 256 items; GPUs get up to 65535.
 */
export function grid1d(n: number, info?: { software: boolean }): [number, number, number] {
  const cap = info?.software ? 64 : 65535;
  return [Math.min(cap, Math.max(1, Math.ceil(n / WORKGROUP))), 1, 1];
}

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

/**
 * The entry point of a 1-D kernel: `body` is run for every index `i` below `bound`, as a function
 * (so `return` skips one element), by a grid-stride loop over however many workgroups `grid1d` gave.
 */
export function entry1d(body: string, bound = 'P.n'): string {
  return `fn element(i: u32) {
${body}
}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let stride = nwg.x * ${WORKGROUP}u;
  for (var i = gid.x; i < ${bound}; i += stride) { element(i); }
}
`;
}
