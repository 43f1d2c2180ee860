import type { BaseOptions, Optimizer } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { DecoderLM } from '@tessera/transformer';
import { type Preset, presetBudget } from './presets.js';
import { makeOptimizer, trainStep } from './train.js';

/**
 * A preset's model and optimizer stepping on random tokens, to measure training speed apart
 * from data and evaluation: tokens per second, model FLOPs per second, and where a step's
 * device time goes (`device.profile`). `reference-llm profile` and the throughput bench use it.
 */
export class TrainingProbe {
  readonly model: DecoderLM;
  private readonly optimizer: Optimizer<BaseOptions>;
  private seed = 0;

  constructor(
    readonly preset: Preset,
    readonly device: T.Device,
    optimizer: 'adamw' | 'muon' = 'adamw',
  ) {
    this.model = new DecoderLM({ ...preset.model, vocabSize: preset.vocabSize }, device);
    // The schedules of a `pretrain` run of the preset's default length, so both train alike.
    this.optimizer = makeOptimizer(optimizer, this.model, preset, presetBudget(preset).steps);
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
    const seed = 2 * ++this.seed;
    const x = T.randint(0, vocabSize, [batchSize, seqLen], { device: this.device, seed });
    const y = T.randint(0, vocabSize, [batchSize * seqLen], {
      device: this.device,
      seed: seed + 1,
    });
    return trainStep(this.model, this.optimizer, x, y);
  }

  /** Runs `warmup` steps (pipelines compile, the buffer pool fills), then nothing else. */
  async warmup(steps = 3): Promise<void> {
    for (let i = 0; i < steps; i++) await this.step();
  }

  /** Tokens per second over `steps` free-running steps. */
  async throughput(steps: number): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await this.step();
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
