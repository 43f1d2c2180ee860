import { grpoStep, numericAnswerReward, sampleGroups } from '@tessera/grpo';
import { AdamW } from '@tessera/optim';
import { createDevice, embedding, randn } from '@tessera/tensor-webgpu';

const dev = await createDevice();
// A policy over 6 tokens whose next token depends on the last one (any CausalLM plugs in).
const table = randn([6, 6], { seed: 1 }).requiresGrad_();
const policy = { vocabSize: 6, device: dev, forward: (ids) => embedding(table, ids) };
const optimizer = new AdamW([table], { lr: 0.3, weightDecay: 0 });
const prompts = [[0], [2], [3]]; // each prompt's answer is one token; "1" is right
for (let step = 0; step < 20; step++) {
  const completions = await sampleGroups(policy, prompts, {
    groupSize: 8,
    maxNewTokens: 1,
    seed: 100 * step,
  });
  const rewards = completions.map((c) =>
    numericAnswerReward(`<answer>${c[0]}</answer>`, { answer: 1 }),
  );
  const r = await grpoStep(
    { policy },
    optimizer,
    { prompts, completions, rewards },
    {
      groupSize: 8,
      lossType: 'dr_grpo',
      scaleRewards: 'none',
      maxCompletionLength: 1,
      iterations: 2,
    },
  );
  const accuracy = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  if (step % 4 === 3)
    console.log(`step ${step}: accuracy ${accuracy.toFixed(2)}, loss ${r.loss.toFixed(3)}`);
}
dev.destroy();
