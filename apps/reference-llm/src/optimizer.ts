import {
  AdamW,
  type BaseOptions,
  Muon,
  muonParamGroups,
  type Optimizer,
  type Schedule,
  warmupCosine,
} from '@tessera/optim';
import type { DecoderLM } from '@tessera/transformer';
import type { Preset } from './presets.js';

/** The optimizers the app trains with. */
export const OPTIMIZERS = ['adamw', 'muon'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Muon's peak learning rate for hidden matrices (Keller Jordan's reference uses 0.02). */
const MUON_LR = 0.02;

/** An optimizer and the learning-rate schedule of each of its groups, by group name. */
export interface ScheduledOptimizer {
  optimizer: Optimizer<BaseOptions>;
  /** Each group's schedule, in group order (`adamw`; or `muon`, `muon/adamw`), as the optimizer holds them. */
  schedules: Record<string, Schedule>;
}

/**
 * The optimizer `pretrain` and `profile` both train with, built in this one place: AdamW
 * (β = 0.9, 0.95, weight decay 0.1) at the preset's lr; or Muon at lr 0.02 (weight decay 0.01) on
 * the hidden matrices with AdamW for embeddings and norms at the preset's lr. Every rate follows
 * warmup + cosine decay to a tenth of its peak over `totalSteps` (nanoGPT's recipe), each from its
 * own peak; the warmup is the preset's, but at most a tenth of the run, so that a short run
 * (`--steps 30`) decays too instead of ending mid-warmup; the schedules live in the optimizer, which reads them at its own step counter (so a
 * resumed optimizer continues them).
 */
export function buildOptimizer(
  name: OptimizerName,
  model: Pick<DecoderLM, 'parameters' | 'namedParameters'>,
  preset: Preset,
  totalSteps: number,
): ScheduledOptimizer {
  const schedule = (lr: number) =>
    warmupCosine({
      lr,
      warmup: Math.min(preset.warmupSteps, Math.ceil(totalSteps / 10)),
      total: totalSteps,
      minLr: lr / 10,
    });
  const adam = { betas: [0.9, 0.95] as [number, number], weightDecay: 0.1 };
  if (name === 'adamw') {
    const schedules = { adamw: schedule(preset.lr) };
    return {
      optimizer: new AdamW(model.parameters(), { ...adam, lr: schedules.adamw }),
      schedules,
    };
  }
  const schedules = { muon: schedule(MUON_LR), 'muon/adamw': schedule(preset.lr) };
  const optimizer = new Muon(muonParamGroups(model.namedParameters()), {
    lr: schedules.muon,
    weightDecay: 0.01,
    adamw: { ...adam, lr: schedules['muon/adamw'] },
  });
  return { optimizer, schedules };
}
