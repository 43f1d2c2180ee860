import type { Tensor } from '@tessera/tensor-webgpu';

export type { Tensor };

export function formatShapeOf(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}
