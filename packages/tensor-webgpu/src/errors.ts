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
        "tensor-webgpu README), or use the CPU backend: createDevice({ backend: 'cpu' }).",
    );
    this.name = 'NoAdapterError';
  }
}
