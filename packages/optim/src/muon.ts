import { add, checkOptions, mul, type Tensor, tidy, zeros } from '@tessera/tensor-webgpu';
import {
  type AdamState,
  type AdamWOptions,
  adamwUpdate,
  checkAdamWHyperParameters,
} from './adamw.js';
import { newtonSchulz } from './newton-schulz.js';
import {
  type BaseOptions,
  checkBaseOptions,
  type LearningRate,
  Optimizer,
  type ParamsInput,
  type UpdateContext,
} from './optimizer.js';

/** Muon's options; every one may be overridden per parameter group. */
export interface MuonOptions extends BaseOptions {
  /** Momentum factor in [0, 1) (default 0.95). */
  momentum?: number;
  /** Nesterov momentum (default true). */
  nesterov?: boolean;
  /** Newton–Schulz iterations (5 in the reference). */
  nsSteps?: number;
  /**
   * How the update is scaled by the matrix shape: `spectral` (the reference: √max(1, rows/cols))
   * or `rms` (Moonlight: 0.2·√max(rows, cols), which matches AdamW's update RMS so AdamW's lr
   * and weight decay carry over).
   */
  scale?: 'spectral' | 'rms';
  /** Route this group to AdamW (embeddings, output heads, norms, biases). */
  useAdamW?: boolean;
  /**
   * AdamW for the parameters Muon does not orthogonalise, with its own learning rate (a number
   * or a schedule; default: the group's `lr`) and weight decay (default: the group's
   * `weightDecay`); betas default to [0.9, 0.999], eps to 1e-8. Always the fused kernel.
   */
  adamw?: Omit<AdamWOptions, 'fused' | 'lr'> & { lr?: LearningRate };
}

const MUON_KEYS = [
  'lr',
  'weightDecay',
  'momentum',
  'nesterov',
  'nsSteps',
  'scale',
  'useAdamW',
  'adamw',
] as const;

/** Muon's per-parameter state: a momentum buffer (matrices) or AdamW moments (the rest). */
export type MuonState = Record<string, Tensor>;

/**
 * Muon (MomentUm Orthogonalized by Newton–Schulz; Jordan et al., 2024): SGD-momentum whose
 * update for each 2-D weight is replaced by its nearest semi-orthogonal matrix. Parameters that
 * are not matrices — and groups marked `useAdamW` — get AdamW instead, as the reference
 * recommends, at the rate `adamw.lr` and with each parameter's own step count. `lastLR` of a
 * group shows `lr` and/or `adamw.lr`, whichever its parameters used. Defaults: momentum 0.95,
 * nesterov true, nsSteps 5, scale 'spectral', weightDecay 0.
 *
 * @throws TypeError - an unknown option key (also inside `adamw`), or a bad `scale`
 * @throws RangeError - an option out of range, naming it (`adamw.betas`, ...)
 */
export class Muon extends Optimizer<MuonOptions, MuonState> {
  constructor(params: ParamsInput<MuonOptions>, options: MuonOptions) {
    super(
      'Muon',
      params,
      { momentum: 0.95, nesterov: true, nsSteps: 5, scale: 'spectral', weightDecay: 0, ...options },
      MUON_KEYS,
    );
  }

  protected override validate(o: MuonOptions): void {
    super.validate(o);
    checkOptions('Muon: adamw', o.adamw, ['lr', 'betas', 'eps', 'weightDecay']);
    if (o.adamw) {
      checkBaseOptions(
        this.name,
        { lr: o.adamw.lr ?? o.lr, weightDecay: o.adamw.weightDecay },
        'adamw.',
      );
      checkAdamWHyperParameters(this.name, o.adamw, 'adamw.');
    }
    if (!((o.momentum ?? 0.95) >= 0 && (o.momentum ?? 0.95) < 1))
      throw new RangeError(`Muon: momentum must be in [0, 1), got ${o.momentum}`);
    if (!(Number.isInteger(o.nsSteps) && o.nsSteps! >= 1))
      throw new RangeError(`Muon: nsSteps must be a positive integer, got ${o.nsSteps}`);
    if (o.scale !== undefined && o.scale !== 'spectral' && o.scale !== 'rms') {
      throw new TypeError(
        `Muon: scale must be 'spectral' or 'rms', got ${JSON.stringify(o.scale)}`,
      );
    }
  }

  private usesMuon(p: Tensor, o: MuonOptions): boolean {
    return p.rank === 2 && !o.useAdamW;
  }

  protected initState(p: Tensor, o: MuonOptions): MuonState {
    const z = () => zeros(p.shape, { device: p.device });
    return this.usesMuon(p, o) ? { momentum_buffer: z() } : { exp_avg: z(), exp_avg_sq: z() };
  }

  protected override learningRate(p: Tensor, o: MuonOptions): [string, LearningRate] {
    return this.usesMuon(p, o) ? ['lr', o.lr] : ['adamw.lr', o.adamw?.lr ?? o.lr];
  }

  protected update(p: Tensor, g: Tensor, s: MuonState, o: MuonOptions, at: UpdateContext): void {
    if (!this.usesMuon(p, o)) {
      const { betas, eps, weightDecay = o.weightDecay } = o.adamw ?? {};
      adamwUpdate(p, g, s as AdamState, { betas, eps, weightDecay, fused: true }, at);
      return;
    }
    const { lr } = at;
    const mu = o.momentum ?? 0.95;
    const [rows, cols] = p.shape as [number, number];
    const scale =
      o.scale === 'rms'
        ? 0.2 * Math.sqrt(Math.max(rows, cols))
        : Math.sqrt(Math.max(1, rows / cols));
    tidy(() => {
      const buf = s.momentum_buffer!.mul_(mu).add_(g);
      const direction = o.nesterov === false ? buf : add(g, mul(buf, mu));
      if (o.weightDecay) p.mul_(1 - lr * o.weightDecay);
      p.sub_(mul(newtonSchulz(direction, o.nsSteps ?? 5), lr * scale));
    });
  }
}

/**
 * Splits named parameters the way Muon wants them: 2-D hidden weights for Muon, everything
 * else — embeddings and output heads (by name), norms, biases — for AdamW.
 */
export function muonParamGroups(
  named: [string, Tensor][],
  isEmbeddingOrHead: (name: string) => boolean = (n) => /embed|wte|wpe|lm_head|head\b/.test(n),
): [{ params: Tensor[] }, { params: Tensor[]; useAdamW: true }] {
  const muon: Tensor[] = [];
  const adam: Tensor[] = [];
  for (const [name, p] of named) (p.rank === 2 && !isEmbeddingOrHead(name) ? muon : adam).push(p);
  return [{ params: muon }, { params: adam, useAdamW: true }];
}
