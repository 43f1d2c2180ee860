import { type Tensor, zeros } from '@tessera/tensor-webgpu';
import { fusedUpdate } from './fused-update.js';
import { type BaseOptions, Optimizer, type ParamsInput, type UpdateContext } from './optimizer.js';
import { OPTIM_KERNELS } from './wasm.js';

/** Lion's options; every one may be overridden per parameter group. */
export interface LionOptions extends BaseOptions {
  /** β1 interpolates the update's sign, β2 the momentum; each in [0, 1) (default [0.9, 0.99]). */
  betas?: [number, number];
}

// Lion (Chen et al., 2023): p ← p·(1 − lr·wd) − lr·sign(β1·m + (1−β1)·g); m ← β2·m + (1−β2)·g.
const lionStep = fusedUpdate({
  name: 'lion',
  inputs: ['g'],
  state: ['p', 'm'],
  scalars: ['lr', 'wd', 'b1', 'b2'],
  wgsl: `  let gi = g[i];
  let c = P.b1 * m[i] + (1.0 - P.b1) * gi;
  p[i] = p[i] * (1.0 - P.lr * P.wd) - P.lr * sign(c);
  m[i] = P.b2 * m[i] + (1.0 - P.b2) * gi;`,
  cpu: (i, { g, p, m }, { lr, wd, b1, b2 }) => {
    const gi = g![i]!;
    const c = b1! * m![i]! + (1 - b1!) * gi;
    p![i] = p![i]! * (1 - lr! * wd!) - lr! * Math.sign(c);
    m![i] = b2! * m![i]! + (1 - b2!) * gi;
  },
  wasm: { module: OPTIM_KERNELS, entry: 'lion' },
});

/**
 * Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms"): the sign of an
 * interpolated momentum; use a ~3–10× smaller lr and larger weight decay than AdamW. A
 * parameter's momentum moves only at steps where it has a gradient. Defaults: betas
 * [0.9, 0.99], weightDecay 0.
 *
 * @throws TypeError - an unknown option key
 * @throws RangeError - lr, weightDecay or betas out of range
 */
export class Lion extends Optimizer<LionOptions, { exp_avg: Tensor }> {
  constructor(params: ParamsInput<LionOptions>, options: LionOptions) {
    super('Lion', params, { betas: [0.9, 0.99], weightDecay: 0, ...options }, [
      'lr',
      'weightDecay',
      'betas',
    ]);
  }

  protected override validate(o: LionOptions): void {
    super.validate(o);
    const [b1, b2] = o.betas ?? [0.9, 0.99];
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1))
      throw new RangeError(`Lion: betas must be in [0, 1), got [${b1}, ${b2}]`);
  }

  protected initState(p: Tensor): { exp_avg: Tensor } {
    return { exp_avg: zeros(p.shape, { device: p.device }) };
  }

  protected update(
    p: Tensor,
    g: Tensor,
    s: { exp_avg: Tensor },
    o: LionOptions,
    { lr }: UpdateContext,
  ): void {
    const [b1, b2] = o.betas ?? [0.9, 0.99];
    lionStep([g], [p, s.exp_avg], { lr, wd: o.weightDecay ?? 0, b1, b2 });
  }
}
