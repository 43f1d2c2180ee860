import { formatShape, type Shape } from './shape.js';

/** Thrown when an op receives tensors whose shapes cannot work together. */
export function shapeError(op: string, message: string, ...shapes: Shape[]): RangeError {
  const list = shapes.map(formatShape).join(' and ');
  return new RangeError(`${op}: ${message}${shapes.length ? ` (got ${list})` : ''}`);
}

/** Raised where a WebGPU adapter was required but none could be found. */
export class NoAdapterError extends Error {
  constructor(detail: string) {
    super(
      `No WebGPU adapter found (${detail}). On a machine without a GPU, install the software ` +
        'Vulkan driver with `scripts/setup-software-gpu.sh` (Mesa lavapipe >= 24; see the ' +
        "tensor-webgpu README), or run on the CPU: createDevice({ backend: 'wasm' }) (WebAssembly " +
        "SIMD on worker threads; backend 'auto' picks it when there is no adapter) or the plain " +
        "reference, createDevice({ backend: 'cpu' }).",
    );
    this.name = 'NoAdapterError';
  }
}

/**
 * Throws a `TypeError` when `options` is not a plain object or holds a key outside `known`: a
 * misspelt option (`smoothMethod`, `truncat`) must fail loudly, never fall back to a default.
 * `undefined` passes (no options given). The message names the call, the key and the known keys.
 *
 * @param where - the function or class the options belong to, e.g. `'rope'`, `'AdamW'`
 * @param options - the caller's options object
 * @param known - every key the call reads
 * @throws TypeError - not an object, or an unknown key
 */
export function checkOptions(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key))
      throw new TypeError(
        `${where}: unknown option ${JSON.stringify(key)} (known options: ${known.join(', ')})`,
      );
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `${typeof value} ${String(value)}`;
}
