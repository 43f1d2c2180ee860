import type { Preset } from '../presets.js';
import { pretrain } from '../pretrain.js';
import type { TuningRecipe } from '../tuning/recipes.js';
import { RECIPES } from '../tuning/recipes.js';
import { data, micro, tempDir } from './fixtures.js';

/** The micro preset with a window long enough for the generated chats (64 tokens). */
export const microChat: Preset = {
  ...micro,
  name: 'micro-chat',
  model: { ...micro.model, maxSeqLen: 64 },
};

/** A recipe of a few steps and examples, so the tuning stages' tests run in seconds. */
export const microRecipe: TuningRecipe = {
  replyTokens: 6,
  sft: {
    ...RECIPES.tiny!.sft,
    steps: 8,
    batchSize: 4,
    warmupSteps: 2,
    evalEvery: 4,
    train: 40,
    heldout: 5,
  },
  reward: {
    ...RECIPES.tiny!.reward,
    steps: 8,
    batchSize: 4,
    warmupSteps: 2,
    evalEvery: 4,
    train: 40,
    heldout: 6,
  },
  dpo: {
    ...RECIPES.tiny!.dpo,
    steps: 8,
    batchSize: 4,
    warmupSteps: 2,
    evalEvery: 4,
    train: 40,
    heldout: 6,
  },
  ppo: {
    ...RECIPES.tiny!.ppo,
    steps: 4,
    batchSize: 4,
    warmupSteps: 1,
    evalEvery: 2,
    train: 20,
    heldout: 4,
    maxNewTokens: 6,
  },
  grpo: {
    ...RECIPES.tiny!.grpo,
    steps: 4,
    batchSize: 2,
    groupSize: 4,
    warmupSteps: 1,
    evalEvery: 2,
    train: 20,
    heldout: 4,
    maxNewTokens: 8,
  },
};

const quiet = { write: () => {} };
let pretrained: Promise<string> | undefined;

/** A micro-chat model pretrained for 4 steps on 60 kB of the bundled text (one per test process). */
export function pretrainedMicro(device: import('@tessera/tensor-webgpu').Device): Promise<string> {
  pretrained ??= (async () => {
    const out = tempDir();
    await pretrain({ preset: microChat, out, steps: 4, data, device, sink: quiet });
    return out;
  })();
  return pretrained;
}

let pretrainedMoE: Promise<string> | undefined;

/** The micro-chat model with 4 experts, top-2, pretrained alike (one per test process). */
export function pretrainedMicroMoE(
  device: import('@tessera/tensor-webgpu').Device,
): Promise<string> {
  pretrainedMoE ??= (async () => {
    const out = tempDir();
    await pretrain({
      preset: microChat,
      moe: { experts: 4, topK: 2 },
      out,
      steps: 4,
      data,
      device,
      sink: quiet,
    });
    return out;
  })();
  return pretrainedMoE;
}
