import {
  add,
  expand,
  gelu,
  indexSelect,
  matmul,
  mul,
  narrow,
  reshape,
  scatterAdd,
  silu,
  type Tensor,
  tensor,
  transpose,
  zeros,
} from '@tessera/tensor-webgpu';
import type { Experts } from './experts.js';
import type { MoE } from './moe.js';
import type { Routing } from './router.js';

/** Expert e's [out, in] matrix: a view of the stacked weight. */
function matrix(stacked: Tensor, e: number): Tensor {
  return reshape(narrow(stacked, 0, e, 1), stacked.shape.slice(1));
}

function linear(x: Tensor, stacked: Tensor, e: number): Tensor {
  return matmul(x, transpose(matrix(stacked, e)));
}

/** Expert e on its tokens `x` [n, dim], with plain ops (no fused kernel, no grouped matmul). */
function expertNetwork(experts: Experts, e: number, x: Tensor): Tensor {
  const up = linear(x, experts.up_proj, e);
  const h = experts.kind === 'swiglu' ? mul(silu(linear(x, experts.gate_proj!, e)), up) : gelu(up);
  return linear(h, experts.down_proj, e);
}

/**
 * The same layer computed the textbook way, as Hugging Face's Mixtral and DeepSeek-V3 modules do:
 * read the routing back to the host, then loop over the experts — gather each expert's tokens,
 * run its network, weight the result and scatter-add it into the output. One read-back and E
 * small products per call: the test oracle of `MoE.forward` and the baseline of its benchmark.
 * Uses the layer's own router (call it in eval mode, or without jitter, to compare) and the
 * same capacity rule (first choices before second ones, earlier tokens first).
 *
 * @param x - [..., dim] f32
 * @returns the layer's output [..., dim], differentiable as `MoE.forward` (no auxiliary losses)
 */
export async function naiveMoE(layer: MoE, x: Tensor): Promise<Tensor> {
  const routing = layer.gate.route(reshape(x, [x.size / layer.dim, layer.dim]));
  return loopOverExperts(layer, x, routing, await routing.indices.data());
}

/**
 * The synchronous part of `naiveMoE`, once the routing is on the host: `chosen` holds
 * `routing.indices`' values. (The benchmark times it inside `tidy`.)
 */
export function loopOverExperts(
  layer: MoE,
  x: Tensor,
  routing: Routing,
  chosen: ArrayLike<number>,
): Tensor {
  const dim = layer.dim;
  const tokens = x.size / dim;
  const k = layer.topK;
  const flat = reshape(x, [tokens, dim]);
  const capacity = layer.capacity(tokens);
  const members = Array.from({ length: layer.numExperts }, () => ({
    tokens: [] as number[],
    assignments: [] as number[],
  }));
  for (let r = 0; r < k; r++) {
    for (let t = 0; t < tokens; t++) {
      const m = members[chosen[t * k + r]!]!;
      if (m.tokens.length < capacity) {
        m.tokens.push(t);
        m.assignments.push(t * k + r);
      }
    }
  }
  const weights = reshape(routing.weights, [tokens * k]);
  const device = x.device;
  let y = zeros([tokens, dim], { device });
  members.forEach((m, e) => {
    const n = m.tokens.length;
    if (n === 0) return;
    const rows = tensor(Int32Array.from(m.tokens), { device });
    const w = indexSelect(weights, 0, tensor(Int32Array.from(m.assignments), { device }));
    const out = mul(
      expertNetwork(layer.experts, e, indexSelect(flat, 0, rows)),
      reshape(w, [n, 1]),
    );
    y = add(y, scatterAdd([tokens, dim], 0, expand(reshape(rows, [n, 1]), [n, dim]), out));
  });
  if (layer.shared_experts) y = add(y, layer.shared_experts.forward(flat));
  return reshape(y, x.shape);
}
