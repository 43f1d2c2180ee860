import { type Tensor, zeros } from '@tessera/tensor-webgpu';
import { fusedUpdate } from './fused-update.js';
import { type BaseOptions, Optimizer, type ParamsInput, type UpdateContext } from './optimizer.js';
import { OPTIM_KERNELS } from './wasm.js';

/** SGD's options; every one may be overridden per parameter group. */
export interface SGDOptions extends BaseOptions {
  /** Momentum factor in [0, 1) (default 0). */
  momentum?: number;
  /** Nesterov momentum (needs momentum > 0). */
  nesterov?: boolean;
}

// PyTorch's SGD: d = g + wd·p; buf = μ·buf + d; d = d + μ·buf (Nesterov) or buf; p -= lr·d.
const sgdStep = fusedUpdate({
  name: 'sgd',
  inputs: ['g'],
  state: ['p', 'buf'],
  scalars: ['lr', 'wd', 'mu', 'nesterov'],
  wgsl: `  let d = g[i] + P.wd * p[i];
  let b = P.mu * buf[i] + d;
  buf[i] = b;
  p[i] = p[i] - P.lr * select(b, d + P.mu * b, P.nesterov > 0.5);`,
  cpu: (i, { g, p, buf }, { lr, wd, mu, nesterov }) => {
    const d = g![i]! + wd! * p![i]!;
    const b = mu! * buf![i]! + d;
    buf![i] = b;
    p![i] = p![i]! - lr! * (nesterov! > 0.5 ? d + mu! * b : b);
  },
  wasm: { module: OPTIM_KERNELS, entry: 'sgd' },
});

/**
 * Stochastic gradient descent with momentum and Nesterov momentum, as `torch.optim.SGD`
 * (weight decay is L2: added to the gradient). A parameter's momentum buffer moves only at
 * steps where it has a gradient. Defaults: momentum 0, nesterov false, weightDecay 0.
 *
 * @throws TypeError - an unknown option key
 * @throws RangeError - lr, weightDecay or momentum out of range, or nesterov without momentum
 */
export class SGD extends Optimizer<SGDOptions, { momentum_buffer: Tensor }> {
  constructor(params: ParamsInput<SGDOptions>, options: SGDOptions) {
    super('SGD', params, { momentum: 0, nesterov: false, weightDecay: 0, ...options }, [
      'lr',
      'weightDecay',
      'momentum',
      'nesterov',
    ]);
  }

  protected override validate(o: SGDOptions): void {
    super.validate(o);
    if (!((o.momentum ?? 0) >= 0 && (o.momentum ?? 0) < 1))
      throw new RangeError(`SGD: momentum must be in [0, 1), got ${o.momentum}`);
    if (o.nesterov && !(o.momentum! > 0)) throw new RangeError('SGD: nesterov needs momentum > 0');
  }

  protected initState(p: Tensor): { momentum_buffer: Tensor } {
    return { momentum_buffer: zeros(p.shape, { device: p.device }) };
  }

  protected update(
    p: Tensor,
    g: Tensor,
    s: { momentum_buffer: Tensor },
    o: SGDOptions,
    { lr }: UpdateContext,
  ): void {
    sgdStep([g], [p, s.momentum_buffer], {
      lr,
      wd: o.weightDecay ?? 0,
      mu: o.momentum ?? 0,
      nesterov: o.nesterov ? 1 : 0,
    });
  }
}
