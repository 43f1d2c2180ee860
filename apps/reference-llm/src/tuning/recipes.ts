/**
 * The tuning recipes, one per pretraining preset (a tuned run takes the recipe of the preset its
 * model was pretrained with). `tiny` is sized so that pretrain → sft → reward → dpo, ppo and grpo run
 * in about a quarter of an hour on a 2-core CPU through lavapipe; `small` and `base` are for GPUs.
 */
import { basePresetName } from '../presets.js';

export interface StageRecipe {
  /** Optimizer steps. */
  steps: number;
  /** Examples (SFT), pairs (reward, DPO) or prompts (PPO) per step. */
  batchSize: number;
  /** Peak learning rate (AdamW, warmup then cosine decay to a tenth). */
  lr: number;
  warmupSteps: number;
  /** Validation on the held-out split every N steps (and at the end). */
  evalEvery: number;
  /** Generated training examples (or pairs). */
  train: number;
  /** Generated held-out examples (or pairs). */
  heldout: number;
}

export interface SftRecipe extends StageRecipe {
  /** Learning rate with LoRA (adapters want a higher one). */
  loraLr: number;
}

export interface DpoRecipe extends StageRecipe {
  beta: number;
  /** Weight of the chosen replies' NLL (RPO); 0 is plain DPO. */
  rpoAlpha: number;
}

export interface PpoRecipe extends StageRecipe {
  /** Tokens a completion may have. */
  maxNewTokens: number;
  /** Passes over each rollout batch. */
  epochs: number;
  /** Minibatches per pass. */
  minibatches: number;
  /** Initial KL coefficient β. */
  klCoef: number;
  /** The adaptive controller's target KL (nats per completion); 0 keeps β fixed. */
  klTarget: number;
  /** Subtracted from the score of a completion that does not end with `<|im_end|>`. */
  missingEosPenalty: number;
}

export interface GrpoRecipe extends StageRecipe {
  /** Completions sampled per prompt (G). */
  groupSize: number;
  /** Tokens a completion may have. */
  maxNewTokens: number;
  /** Passes over each generation batch (μ). */
  iterations: number;
  /** KL coefficient β toward the starting model; 0 keeps no reference model. */
  beta: number;
}

export interface TuningRecipe {
  /** Tokens a reply may have when the held-out questions are answered (greedy). */
  replyTokens: number;
  sft: SftRecipe;
  reward: StageRecipe;
  dpo: DpoRecipe;
  ppo: PpoRecipe;
  grpo: GrpoRecipe;
}

const tiny: TuningRecipe = {
  replyTokens: 24,
  sft: {
    steps: 1000,
    batchSize: 32,
    lr: 3e-3,
    loraLr: 1e-2,
    warmupSteps: 20,
    evalEvery: 250,
    train: 4000,
    heldout: 100,
  },
  reward: {
    steps: 200,
    batchSize: 16,
    lr: 1e-3,
    warmupSteps: 10,
    evalEvery: 50,
    train: 2000,
    heldout: 200,
  },
  dpo: {
    steps: 150,
    batchSize: 16,
    lr: 1e-4,
    warmupSteps: 10,
    evalEvery: 50,
    train: 2000,
    heldout: 200,
    beta: 0.1,
    rpoAlpha: 1,
  },
  ppo: {
    steps: 60,
    batchSize: 32,
    lr: 1e-4,
    warmupSteps: 5,
    evalEvery: 20,
    train: 2000,
    heldout: 100,
    maxNewTokens: 24,
    epochs: 2,
    minibatches: 2,
    klCoef: 0.2,
    klTarget: 0,
    missingEosPenalty: 1,
  },
  grpo: {
    steps: 40,
    batchSize: 8,
    lr: 3e-4,
    warmupSteps: 2,
    evalEvery: 10,
    train: 1500,
    heldout: 100,
    groupSize: 8,
    maxNewTokens: 32,
    iterations: 2,
    beta: 0,
  },
};

export const RECIPES: Record<string, TuningRecipe> = {
  tiny,
  small: {
    replyTokens: 32,
    sft: {
      ...tiny.sft,
      steps: 2000,
      lr: 5e-4,
      loraLr: 2e-3,
      warmupSteps: 100,
      evalEvery: 250,
      train: 20_000,
      heldout: 500,
    },
    reward: {
      ...tiny.reward,
      steps: 1000,
      batchSize: 32,
      lr: 2e-4,
      evalEvery: 250,
      train: 10_000,
      heldout: 500,
    },
    dpo: {
      ...tiny.dpo,
      steps: 1000,
      batchSize: 32,
      lr: 2e-5,
      evalEvery: 250,
      train: 10_000,
      heldout: 500,
    },
    ppo: {
      ...tiny.ppo,
      steps: 300,
      batchSize: 64,
      lr: 1e-5,
      evalEvery: 50,
      maxNewTokens: 32,
      epochs: 4,
      minibatches: 4,
      klTarget: 6,
    },
    grpo: {
      ...tiny.grpo,
      steps: 300,
      batchSize: 16,
      lr: 1e-5,
      evalEvery: 50,
      train: 1200,
      heldout: 300,
      groupSize: 8,
    },
  },
  base: {
    replyTokens: 32,
    sft: {
      ...tiny.sft,
      steps: 4000,
      lr: 2e-4,
      loraLr: 1e-3,
      warmupSteps: 200,
      evalEvery: 500,
      train: 50_000,
      heldout: 1000,
    },
    reward: {
      ...tiny.reward,
      steps: 2000,
      batchSize: 64,
      lr: 1e-4,
      evalEvery: 500,
      train: 20_000,
      heldout: 1000,
    },
    dpo: {
      ...tiny.dpo,
      steps: 2000,
      batchSize: 64,
      lr: 5e-6,
      evalEvery: 500,
      train: 20_000,
      heldout: 1000,
    },
    ppo: {
      ...tiny.ppo,
      steps: 500,
      batchSize: 128,
      lr: 3e-6,
      evalEvery: 100,
      maxNewTokens: 32,
      epochs: 4,
      minibatches: 4,
      klTarget: 6,
    },
    grpo: {
      ...tiny.grpo,
      steps: 500,
      batchSize: 32,
      lr: 3e-6,
      evalEvery: 100,
      train: 1200,
      heldout: 300,
      groupSize: 16,
    },
  },
};

/**
 * The recipe of a preset; a mixture-of-experts variant (`tiny-moe8x2`) follows its base preset's.
 *
 * @throws Error - an unknown preset, naming the known ones
 */
export function recipeFor(preset: string): TuningRecipe {
  const recipe = RECIPES[basePresetName(preset)];
  if (!recipe)
    throw new Error(
      `no tuning recipe for preset "${preset}"; known: ${Object.keys(RECIPES).join(', ')}`,
    );
  return recipe;
}
