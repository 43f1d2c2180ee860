import { add, mul, type Tensor, zeros } from '@tessera/tensor-webgpu';
import { type AdamWOptions, adamwUpdate } from './adamw.js';
import { newtonSchulz } from './newton-schulz.js';
import { type BaseOptions, Optimizer, type ParamsInput } from './optimizer.js';

export interface MuonOptions extends BaseOptions {
  momentum?: number;
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
  /** AdamW hyper-parameters for parameters Muon does not orthogonalise. */
  adamw?: Omit<AdamWOptions, 'fused'>;
}

/** Muon's per-parameter state: a momentum buffer (matrices) or AdamW moments (the rest). */
export type MuonState = Record<string, Tensor>;

/**
 * Muon (MomentUm Orthogonalized by Newton–Schulz): SGD-momentum whose update for each 2-D weight
 * is replaced by its nearest semi-orthogonal matrix. Parameters that are not matrices — and
 * groups marked `useAdamW` — get AdamW instead, as the reference recommends.
 */
export class Muon extends Optimizer<MuonOptions, MuonState> {
  constructor(params: ParamsInput<MuonOptions>, options: MuonOptions) {
    super(params, {
      momentum: 0.95,
      nesterov: true,
      nsSteps: 5,
      scale: 'spectral',
      weightDecay: 0,
      ...options,
    });
  }

  protected override validate(o: MuonOptions): void {
    super.validate(o);
    if (!((o.momentum ?? 0.95) >= 0 && (o.momentum ?? 0.95) < 1))
      throw new RangeError(`Muon: momentum must be in [0, 1), got ${o.momentum}`);
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

  protected update(p: Tensor, g: Tensor, s: MuonState, o: MuonOptions, step: number): void {
    if (!this.usesMuon(p, o)) {
      const adam = { lr: o.lr, weightDecay: o.weightDecay, ...o.adamw, fused: true };
      adamwUpdate(p, g, s as { exp_avg: Tensor; exp_avg_sq: Tensor }, adam, step);
      return;
    }
    const mu = o.momentum ?? 0.95;
    const buf = s.momentum_buffer!;
    buf.mul_(mu).add_(g);
    const direction = o.nesterov === false ? buf : add(g, mul(buf, mu));
    const update = newtonSchulz(direction, o.nsSteps ?? 5);
    if (direction !== buf) direction.dispose();
    const [rows, cols] = p.shape as [number, number];
    const scale =
      o.scale === 'rms'
        ? 0.2 * Math.sqrt(Math.max(rows, cols))
        : Math.sqrt(Math.max(1, rows / cols));
    if (o.weightDecay) p.mul_(1 - o.lr * o.weightDecay);
    const step_ = mul(update, o.lr * scale);
    p.sub_(step_);
    step_.dispose();
    update.dispose();
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
