import {
  dynamicSampling,
  formatReward,
  groupAdvantages,
  grpoLoss,
  grpoStatistics,
  numericAnswerReward,
  scoreCompletions,
} from '@tessera/grpo';
import { createDevice, randn, sub, tensor } from '@tessera/tensor-webgpu';

const dev = await createDevice();

// Two prompts ("3·4?", "10³?"), four sampled completions each, scored by verifiable rewards.
const completions = [
  '<think>3·4</think><answer>12</answer>',
  '<think>3+4</think><answer>7</answer>',
  '<answer>12.</answer>',
  '<think>four threes</think><answer> 12 </answer>',
  '<think>10·10·10</think><answer>1,000</answer>',
  '<think>cube</think><answer>1000</answer>',
  '<think>10^3</think><answer>1000.</answer>',
  '<think>ten cubed</think><answer>+1 000</answer>',
];
const examples = [...Array(4).fill({ answer: 12 }), ...Array(4).fill({ answer: '1000' })];
const { rewards, perFunction } = scoreCompletions(
  completions,
  examples,
  [numericAnswerReward, formatReward],
  [1, 0.2],
);
console.log('rewards', Array.from(rewards, (r) => r.toFixed(1)).join(' '));
console.log('groups to train on, to refill:', JSON.stringify(dynamicSampling(rewards, 4, 2)));

// Group-relative advantages, then the loss on the completions' per-token log-probs
// (random here; a model gives them), right-padded to 6 tokens.
const advantages = groupAdvantages(tensor(rewards), { groupSize: 4 });
const lengths = [6, 5, 3, 6, 6, 4, 5, 6];
const mask = tensor(lengths.map((n) => Array.from({ length: 6 }, (_, t) => (t < n ? 1 : 0))));
const logprobs = sub(randn([8, 6], { seed: 1 }), 2).requiresGrad_();
const out = grpoLoss({ logprobs, advantages, mask }, { lossType: 'dapo', epsilonHigh: 0.28 });
out.loss.backward();
const correct = perFunction[0];
console.log(await grpoStatistics({ rewards, groupSize: 4, lengths, correct, loss: out }));
dev.destroy();
