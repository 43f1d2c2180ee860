import { add, div, mul, sqrt, square, sub, type Tensor, tidy, zeros } from '@tessera/tensor-webgpu';
import { fusedUpdate } from './fused-update.js';
import { type BaseOptions, Optimizer, type ParamsInput, type UpdateContext } from './optimizer.js';
import { OPTIM_KERNELS } from './wasm.js';

/** AdamW's options; every one may be overridden per parameter group. */
export interface AdamWOptions extends BaseOptions {
  /** Decay rates of the first and second moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator, > 0 (default 1e-8). */
  eps?: number;
  /** One fused kernel per parameter (default) or the same update written in tensor ops. */
  fused?: boolean;
}

/** AdamW's hyper-parameters other than the learning rate (Muon's AdamW part takes these too). */
export type AdamWHyperParameters = Omit<AdamWOptions, 'lr'>;

/** AdamW's per-parameter state: first and second moment estimates. */
export type AdamState = { exp_avg: Tensor; exp_avg_sq: Tensor };

const ADAMW_KEYS = ['lr', 'weightDecay', 'betas', 'eps', 'fused'] as const;

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
  wasm: { module: OPTIM_KERNELS, entry: 'adamw' },
});

/**
 * AdamW (Loshchilov & Hutter, 2019), numerically as `torch.optim.AdamW`: decoupled weight decay
 * p ← p·(1 − lr·wd), then the Adam step with bias corrections 1 − βᵗ, where t is each
 * parameter's own step count (steps at which it had a gradient), as PyTorch keeps it.
 * Defaults: betas [0.9, 0.999], eps 1e-8, weightDecay 0.01, fused true.
 *
 * @throws TypeError - an unknown option key
 * @throws RangeError - lr, weightDecay, betas or eps out of range (naming the option)
 */
export class AdamW extends Optimizer<AdamWOptions, AdamState> {
  constructor(params: ParamsInput<AdamWOptions>, options: AdamWOptions) {
    super(
      'AdamW',
      params,
      { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, fused: true, ...options },
      ADAMW_KEYS,
    );
  }

  protected override validate(o: AdamWOptions): void {
    super.validate(o);
    checkAdamWHyperParameters(this.name, o);
  }

  protected initState(p: Tensor): AdamState {
    return {
      exp_avg: zeros(p.shape, { device: p.device }),
      exp_avg_sq: zeros(p.shape, { device: p.device }),
    };
  }

  protected update(p: Tensor, g: Tensor, s: AdamState, o: AdamWOptions, at: UpdateContext): void {
    adamwUpdate(p, g, s, o, at);
  }
}

/** Checks betas and eps; errors read `${where}: ${prefix}betas ...` (Muon passes `adamw.`). */
export function checkAdamWHyperParameters(
  where: string,
  o: AdamWHyperParameters,
  prefix = '',
): void {
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1))
    throw new RangeError(`${where}: ${prefix}betas must be in [0, 1), got [${b1}, ${b2}]`);
  if (!((o.eps ?? 1e-8) > 0))
    throw new RangeError(`${where}: ${prefix}eps must be > 0, got ${o.eps}`);
}

/** One AdamW update of `p` at rate `at.lr` and the parameter's own step `at.step` (shared with Muon). */
export function adamwUpdate(
  p: Tensor,
  g: Tensor,
  s: AdamState,
  o: AdamWHyperParameters,
  at: UpdateContext,
): void {
  const [b1, b2] = o.betas ?? [0.9, 0.999];
  const scalars = {
    lr: at.lr,
    wd: o.weightDecay ?? 0,
    b1,
    b2,
    eps: o.eps ?? 1e-8,
    bc1: 1 - b1 ** at.step,
    bc2: 1 - b2 ** at.step,
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
