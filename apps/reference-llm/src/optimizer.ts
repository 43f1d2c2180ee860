import {
  AdamW,
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
  optimizer: Optimizer<{ lr: number }>;
  /** One schedule per optimizer group, in group order (`adamw`; or `muon`, `muon/adamw`). */
  schedules: Record<string, Schedule>;
}

/**
 * The optimizer `pretrain` and `profile` both train with, built in this one place: AdamW
 * (β = 0.9, 0.95, weight decay 0.1) at the preset's lr; or Muon at lr 0.02 (weight decay 0.01) on
 * the hidden matrices with AdamW for embeddings and norms at the preset's lr. Every group follows
 * warmup + cosine decay to a tenth of its peak over `totalSteps` (nanoGPT's recipe), each from its
 * own peak.
 */
export function buildOptimizer(
  name: OptimizerName,
  model: DecoderLM,
  preset: Preset,
  totalSteps: number,
): ScheduledOptimizer {
  const schedule = (lr: number) =>
    warmupCosine({
      lr,
      warmup: Math.min(preset.warmupSteps, totalSteps),
      total: totalSteps,
      minLr: lr / 10,
    });
  const adam = { betas: [0.9, 0.95] as [number, number], weightDecay: 0.1 };
  if (name === 'adamw') {
    const schedules = { adamw: schedule(preset.lr) };
    const optimizer = new AdamW(model.parameters(), { lr: schedules.adamw(0), ...adam });
    return { optimizer: followSchedules(optimizer, schedules), schedules };
  }
  const schedules = { muon: schedule(MUON_LR), 'muon/adamw': schedule(preset.lr) };
  const [matrices, rest] = muonParamGroups(model.namedParameters());
  const optimizer = new Muon(
    [
      { ...matrices, lr: schedules.muon(0) },
      { ...rest, lr: schedules['muon/adamw'](0) },
    ],
    {
      lr: schedules.muon(0),
      weightDecay: 0.01,
      adamw: { ...adam, lr: schedules['muon/adamw'](0) },
    },
  );
  return { optimizer: followSchedules(optimizer, schedules), schedules };
}

/**
 * Makes each `step()` first set every group's lr from its schedule at the step about to be taken
 * (the optimizer's own step count, so a resumed optimizer continues its schedule). Muon's AdamW
 * groups read their lr from the group's `adamw` options, so that is set too (replaced, not
 * mutated: groups share the default object).
 */
function followSchedules<O extends Optimizer<{ lr: number }>>(
  optimizer: O,
  schedules: Record<string, Schedule>,
): O {
  const byGroup = Object.values(schedules);
  const step = optimizer.step.bind(optimizer);
  optimizer.step = () => {
    optimizer.groups.forEach((g, i) => {
      const lr = byGroup[i]!(optimizer.stepCount);
      const options = g.options as { lr: number; adamw?: { lr: number } };
      options.lr = lr;
      if (options.adamw) options.adamw = { ...options.adamw, lr };
    });
    step();
  };
  return optimizer;
}
