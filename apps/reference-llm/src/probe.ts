import type { BaseOptions, Optimizer } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { DecoderLM } from '@tessera/transformer';
import { languageModelStep } from './lm-step.js';
import { buildOptimizer, type OptimizerName } from './optimizer.js';
import { type Preset, presetBudget } from './presets.js';

/**
 * A preset's model and optimizer stepping on random tokens, to measure training speed apart
 * from data and evaluation: tokens per second, model FLOPs per second, and where a step's
 * device time goes (`device.profile`). `reference-llm profile` and the throughput bench use it.
 */
export class TrainingProbe {
  readonly model: DecoderLM;
  /** The optimizer `pretrain` would build for the preset's full run (same groups and schedules). */
  readonly optimizer: Optimizer<BaseOptions>;
  private steps = 0;

  constructor(
    readonly preset: Preset,
    readonly device: T.Device,
    optimizer: OptimizerName = 'adamw',
  ) {
    this.model = new DecoderLM({ ...preset.model, vocabSize: preset.vocabSize }, device);
    this.optimizer = buildOptimizer(
      optimizer,
      this.model,
      preset,
      presetBudget(preset).steps,
    ).optimizer;
  }

  get tokensPerStep(): number {
    return this.preset.batchSize * this.preset.seqLen;
  }

  /** Model FLOPs of one training step: 3 × (forward FLOPs per token) × tokens. */
  get flopsPerStep(): number {
    return 3 * this.model.flopsPerToken(this.preset.seqLen).total * this.tokensPerStep;
  }

  /** One step as `pretrain` takes it (forward, backward, clipping, update); reads the loss back. */
  async step(): Promise<number> {
    const { batchSize, seqLen, vocabSize } = this.preset;
    const seed = 2 * ++this.steps;
    const x = T.randint(0, vocabSize, [batchSize, seqLen], { device: this.device, seed });
    const y = T.randint(0, vocabSize, [batchSize * seqLen], {
      device: this.device,
      seed: seed + 1,
    });
    return languageModelStep(this.model, this.optimizer, { x, y });
  }

  /** Steps taken so far. */
  get stepsTaken(): number {
    return this.steps;
  }

  /** Runs `warmup` steps (pipelines compile, the buffer pool fills), calling `onStep` after each. */
  async warmup(steps = 3, onStep?: () => void): Promise<void> {
    for (let i = 0; i < steps; i++) {
      await this.step();
      onStep?.();
    }
  }

  /** Tokens per second over `steps` free-running steps, calling `onStep` after each. */
  async throughput(steps: number, onStep?: () => void): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      await this.step();
      onStep?.();
    }
    return (steps * this.tokensPerStep) / ((performance.now() - t0) / 1000);
  }

  /** Per-kernel device time summed over `steps` steps (several, since one step is noisy). */
  profile(steps = 3): Promise<T.KernelProfile> {
    return this.device.profile(async () => {
      for (let i = 0; i < steps; i++) await this.step();
    });
  }
}

/** Kernel time summed by op (the kernel key's first field), as shares of the step, largest first. */
export function timeByOp(profile: T.KernelProfile): { op: string; share: number }[] {
  const byOp = new Map<string, number>();
  for (const k of profile.kernels) {
    const op = k.name.split(':')[0]!;
    byOp.set(op, (byOp.get(op) ?? 0) + k.totalMs);
  }
  return [...byOp]
    .map(([op, ms]) => ({ op, share: ms / Math.max(profile.kernelMs, 1e-12) }))
    .sort((a, b) => b.share - a.share);
}

/** `by op: matmul 51%, ew 8%, ...`: one line for a profile's time by op. */
export function formatTimeByOp(profile: T.KernelProfile): string {
  return `by op: ${timeByOp(profile)
    .map(({ op, share }) => `${op} ${(100 * share).toFixed(0)}%`)
    .join(', ')}`;
}
