import { add, div, mul, sqrt, square, sub, type Tensor, tidy, zeros } from '@tessera/tensor-webgpu';
import { fusedUpdate } from './fused-update.js';
import { type BaseOptions, Optimizer, type ParamsInput } from './optimizer.js';

export interface AdamWOptions extends BaseOptions {
  betas?: [number, number];
  eps?: number;
  /** One fused kernel per parameter (default) or the same update written in tensor ops. */
  fused?: boolean;
}

/** AdamW's per-parameter state: first and second moment estimates. */
export type AdamState = { exp_avg: Tensor; exp_avg_sq: Tensor };

// torch.optim.AdamW: decoupled decay, then Adam with bias correction.
const adamwStep = fusedUpdate({
  name: 'adamw',
  inputs: ['g'],
  state: ['p', 'm', 'v'],
  scalars: ['lr', 'wd', 'b1', 'b2', 'eps', 'bc1', 'bc2'],
  wgsl: `  let gi = g[i];
  let mi = P.b1 * m[i] + (1.0 - P.b1) * gi;
  let vi = P.b2 * v[i] + (1.0 - P.b2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  let decayed = p[i] * (1.0 - P.lr * P.wd);
  p[i] = decayed - (P.lr / P.bc1) * mi / (sqrt(vi) / sqrt(P.bc2) + P.eps);`,
  cpu: (i, { g, p, m, v }, { lr, wd, b1, b2, eps, bc1, bc2 }) => {
    const gi = g![i]!;
    const mi = b1! * m![i]! + (1 - b1!) * gi;
    const vi = b2! * v![i]! + (1 - b2!) * gi * gi;
    m![i] = mi;
    v![i] = vi;
    p![i] =
      p![i]! * (1 - lr! * wd!) - ((lr! / bc1!) * mi) / (Math.sqrt(vi) / Math.sqrt(bc2!) + eps!);
  },
});

/** AdamW (Loshchilov & Hutter), numerically as `torch.optim.AdamW`. */
export class AdamW extends Optimizer<AdamWOptions, AdamState> {
  constructor(params: ParamsInput<AdamWOptions>, options: AdamWOptions) {
    super(params, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, fused: true, ...options });
  }

  protected override validate(o: AdamWOptions): void {
    super.validate(o);
    const [b1, b2] = o.betas ?? [0.9, 0.999];
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1))
      throw new RangeError(`AdamW: betas must be in [0, 1), got [${b1}, ${b2}]`);
    if (!((o.eps ?? 1e-8) > 0)) throw new RangeError(`AdamW: eps must be > 0, got ${o.eps}`);
  }

  protected initState(p: Tensor): AdamState {
    return {
      exp_avg: zeros(p.shape, { device: p.device }),
      exp_avg_sq: zeros(p.shape, { device: p.device }),
    };
  }

  protected update(p: Tensor, g: Tensor, s: AdamState, o: AdamWOptions, step: number): void {
    adamwUpdate(p, g, s, o, step);
  }
}

/** One AdamW update of `p` (shared with Muon, which uses AdamW for non-matrix parameters). */
export function adamwUpdate(
  p: Tensor,
  g: Tensor,
  s: AdamState,
  o: AdamWOptions,
  step: number,
): void {
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  const scalars = {
    lr: o.lr,
    wd: o.weightDecay ?? 0,
    b1,
    b2,
    eps: o.eps ?? 1e-8,
    bc1: 1 - b1 ** step,
    bc2: 1 - b2 ** step,
  };
  if (o.fused !== false) {
    adamwStep([g], [p, s.exp_avg, s.exp_avg_sq], scalars);
    return;
  }
  // The same update in tensor ops: the baseline the fused kernel is benchmarked against.
  tidy(() => {
    s.exp_avg.copy_(add(mul(s.exp_avg, b1), mul(g, 1 - b1)));
    s.exp_avg_sq.copy_(add(mul(s.exp_avg_sq, b2), mul(square(g), 1 - b2)));
    const denom = add(div(sqrt(s.exp_avg_sq), Math.sqrt(scalars.bc2)), scalars.eps);
    const decayed = mul(p, 1 - scalars.lr * scalars.wd);
    p.copy_(sub(decayed, mul(div(s.exp_avg, denom), scalars.lr / scalars.bc1)));
  });
}
