import { add, div, matmul, mean, mul, sum, type Tensor, tensor } from '@tessera/tensor-webgpu';

/**
 * Attention rollout (Abnar & Zuidema, 2020, "Quantifying Attention Flow in Transformers"): how
 * much each input token reaches each output token through every layer, counting the residual
 * connections. Per layer l, the attention weights averaged over heads A_l, mixed with the
 * identity for the residual and renormalised, Ã_l = (0.5·A_l + 0.5·I) / rowsum, are multiplied
 * from the first layer up: R = Ã_L ⋯ Ã_2·Ã_1. `maps` are the layers' weights, first layer
 * first, each f32 [B, heads, T, T] (as `ViT.attentionMaps` returns them); the result is f32
 * [B, T, T], row i the share of each input token in output token i (rows sum to 1). Throws on
 * no maps or maps of different shapes.
 */
export function attentionRollout(maps: readonly Tensor[]): Tensor {
  const first = maps[0];
  if (!first) throw new RangeError('attentionRollout: maps is empty; pass one per layer');
  const shape = first.shape;
  if (first.rank !== 4 || shape[2] !== shape[3])
    throw new RangeError(
      `attentionRollout: maps must be [batch, heads, T, T], got [${shape.join(', ')}]`,
    );
  const t = shape[2]!;
  const eye = new Float32Array(t * t);
  for (let i = 0; i < t; i++) eye[i * t + i] = 1;
  const identity = tensor(eye, { shape: [t, t], device: first.device });
  let rollout: Tensor | undefined;
  maps.forEach((map, l) => {
    if (map.shape.join() !== shape.join())
      throw new RangeError(
        `attentionRollout: map ${l} is [${map.shape.join(', ')}], map 0 [${shape.join(', ')}]`,
      );
    const mixed = add(mul(mean(map, 1), 0.5), mul(identity, 0.5)); // [B, T, T]
    const layer = div(mixed, sum(mixed, -1, { keepDim: true }));
    rollout = rollout ? matmul(layer, rollout) : layer;
  });
  return rollout!;
}
