import { describe, expect, it } from 'vitest';
import { PRESETS } from '../presets.js';
import { RECIPES, recipeFor } from './recipes.js';

describe('tuning recipes', () => {
  it('every pretraining preset has one, and an unknown preset is an error naming the known ones', () => {
    expect(Object.keys(RECIPES).sort()).toEqual(Object.keys(PRESETS).sort());
    expect(() => recipeFor('huge')).toThrow(
      'no tuning recipe for preset "huge"; known: tiny, small, base',
    );
  });

  it("a mixture-of-experts variant follows its base preset's recipe", () => {
    expect(recipeFor('tiny-moe8x2')).toBe(RECIPES.tiny);
    expect(recipeFor('small-moe8x2s1-auxfree')).toBe(RECIPES.small);
  });

  it('each stage evaluates within its run, and PPO’s minibatches divide its rollouts', () => {
    for (const [name, r] of Object.entries(RECIPES)) {
      for (const stage of [r.sft, r.reward, r.dpo, r.ppo]) {
        expect(stage.evalEvery, name).toBeLessThanOrEqual(stage.steps);
        expect(stage.warmupSteps, name).toBeLessThan(stage.steps);
      }
      expect(r.ppo.batchSize % r.ppo.minibatches, name).toBe(0);
      expect(r.ppo.maxNewTokens, name).toBeGreaterThanOrEqual(r.replyTokens);
      // The multi-step problems have about 2,000 distinct questions.
      expect(r.grpo.train + r.grpo.heldout, name).toBeLessThanOrEqual(2000);
      expect(r.grpo.evalEvery, name).toBeLessThanOrEqual(r.grpo.steps);
    }
  });
});
