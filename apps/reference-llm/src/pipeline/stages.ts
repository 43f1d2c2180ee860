import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Device } from '@tessera/tensor-webgpu';
import type { StopReason, StopSignal } from '../loop.js';
import type { Preset } from '../presets.js';
import { pretrain } from '../pretrain.js';
import type { ProgressSink } from '../progress.js';
import { FILES, readCheckpoint } from '../run-folder.js';
import { dpo } from '../tuning/dpo.js';
import { grpo } from '../tuning/grpo.js';
import { ppo } from '../tuning/ppo.js';
import type { TuningRecipe } from '../tuning/recipes.js';
import { trainRewardModel } from '../tuning/reward.js';
import { sft } from '../tuning/sft.js';
import type { ExtraSettings } from './extra-stages.js';

/** What every stage of a pipeline run is given. */
export interface PipelineContext {
  /** The pipeline's folder: each stage writes `out/<stage>`. */
  out: string;
  /** Pretraining's preset (the tuning stages follow its recipe). */
  preset: Preset | string;
  /** The tuning recipe; default the preset's. */
  recipe?: TuningRecipe;
  /** Pretraining text; default the bundled tinyshakespeare. */
  data?: string;
  /** Steps of every training stage; default each recipe's. */
  steps?: number;
  device: Device;
  stop: StopSignal;
  sink: ProgressSink;
  /** What the optional stages train; default `EXTRA_SETTINGS`. */
  extras?: ExtraSettings;
}

/** How a stage's training went (this call's share of it). */
export interface StageOutcome {
  steps: number;
  totalSteps: number;
  stopReason?: StopReason;
}

/**
 * One stage of the pipeline: its name (also its folder under the pipeline's `out`), the stages
 * whose checkpoints it starts from, and the function the stage's own command calls. Adding a
 * stage is one entry in `PIPELINE_STAGES`.
 */
export interface PipelineStage {
  name: string;
  /** Stages whose folders it reads (`--from`, `--reward`). */
  needs: readonly string[];
  /** Whether its checkpoint is a language model `serve` can serve (the reward model is not). */
  servable: boolean;
  /** Trains into `dir`, continuing the checkpoint there when `resume`. */
  run: (c: PipelineContext, dir: string, resume: boolean) => Promise<StageOutcome>;
}

/**
 * Whether a stage's folder holds a finished run: a checkpoint at its last step and the report
 * written after it. A folder without `run.json` holds nothing to resume.
 */
export function stageState(dir: string): 'empty' | 'partial' | 'complete' {
  if (!existsSync(join(dir, FILES.pointer))) return 'empty';
  const { step, totalSteps } = readCheckpoint(dir).state;
  return step >= totalSteps && existsSync(join(dir, 'report.json')) ? 'complete' : 'partial';
}

const folder = (c: PipelineContext, stage: string) => join(c.out, stage);
/** The options every stage function takes, from the context. */
export const stageOptions = (c: PipelineContext, out: string, resume: boolean) => ({
  out,
  resume: resume || undefined,
  steps: c.steps,
  device: c.device,
  stop: c.stop,
  sink: c.sink,
});
const loopOutcome = (r: {
  steps: number;
  totalSteps: number;
  loop: { stopReason?: StopReason };
}): StageOutcome => ({ steps: r.steps, totalSteps: r.totalSteps, stopReason: r.loop.stopReason });

/**
 * The training stages in order, each through the function of its single command (`pretrain`,
 * `sft`, `reward`, `dpo`, `ppo`, `grpo`): SFT tunes the pretrained model, the reward model
 * starts from the SFT model, DPO, PPO and GRPO each tune the SFT model (PPO against the reward
 * model, GRPO on verifiable multi-step arithmetic).
 */
export const PIPELINE_STAGES: readonly PipelineStage[] = [
  {
    name: 'pretrain',
    servable: true,
    needs: [],
    run: async (c, out, resume) => {
      const r = await pretrain({
        ...stageOptions(c, out, resume),
        preset: resume ? undefined : c.preset,
        data: resume ? undefined : c.data,
      });
      return { steps: r.steps, totalSteps: r.totalSteps, stopReason: r.stopReason };
    },
  },
  {
    name: 'sft',
    servable: true,
    needs: ['pretrain'],
    run: async (c, out, resume) =>
      loopOutcome(
        await sft({
          ...stageOptions(c, out, resume),
          from: folder(c, 'pretrain'),
          recipe: c.recipe,
        }),
      ),
  },
  {
    name: 'reward',
    servable: false,
    needs: ['sft'],
    run: async (c, out, resume) =>
      loopOutcome(
        await trainRewardModel({
          ...stageOptions(c, out, resume),
          from: folder(c, 'sft'),
          recipe: c.recipe,
        }),
      ),
  },
  {
    name: 'dpo',
    servable: true,
    needs: ['sft'],
    run: async (c, out, resume) =>
      loopOutcome(
        await dpo({ ...stageOptions(c, out, resume), from: folder(c, 'sft'), recipe: c.recipe }),
      ),
  },
  {
    name: 'ppo',
    servable: true,
    needs: ['sft', 'reward'],
    run: async (c, out, resume) =>
      loopOutcome(
        await ppo({
          ...stageOptions(c, out, resume),
          from: folder(c, 'sft'),
          reward: folder(c, 'reward'),
          recipe: c.recipe,
        }),
      ),
  },
  {
    name: 'grpo',
    servable: true,
    needs: ['sft'],
    run: async (c, out, resume) =>
      loopOutcome(
        await grpo({ ...stageOptions(c, out, resume), from: folder(c, 'sft'), recipe: c.recipe }),
      ),
  },
];
