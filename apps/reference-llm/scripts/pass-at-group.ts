// How much signal GRPO would find in a chat model: G answers sampled (temperature 1) to each of
// the first N training (or held-out) problems of `grpo --seed 1`, and the share of groups with
// at least one right answer (pass@G), with none, and with all right (the last two have no signal):
//   npx tsx scripts/pass-at-group.ts runs/sft [N=64] [G=8] [train|heldout]
import { sampleGroups } from '@tessera/grpo';
import { createDevice } from '@tessera/tensor-webgpu';
import { readCheckpoint } from '../src/run-folder.js';
import { answerReward, arithmeticData } from '../src/tuning/arithmetic.js';
import { readChatModel } from '../src/tuning/chat-model.js';
import { RECIPES } from '../src/tuning/recipes.js';

const [dir, n = '64', g = '8', split = 'train'] = process.argv.slice(2);
if (!dir || (split !== 'train' && split !== 'heldout'))
  throw new Error('usage: pass-at-group.ts RUN_DIR [N] [G] [train|heldout]');
const [problems, group] = [Number(n), Number(g)];
const device = await createDevice();
const { model, chat } = readChatModel(readCheckpoint(dir), device);
model.eval();
const { heldout, train } = RECIPES.tiny!.grpo;
const chats = arithmeticData(1, { heldout, train })[split].slice(0, problems);
const right: number[] = [];
for (let i = 0; i < chats.length; i += 16) {
  const part = chats.slice(i, i + 16);
  const completions = await sampleGroups(
    model,
    part.map((c) => chat.promptIds(c.messages.slice(0, -1))),
    { groupSize: group, maxNewTokens: 32, stopTokenIds: [chat.endId], seed: 1_000_003 + i * group },
  );
  completions.forEach((ids, j) => {
    const reference = part[Math.floor(j / group)]!.messages.at(-1)!.content;
    right.push(answerReward(chat.tokenizer.decode(ids), { reference }));
  });
}
const counts = chats.map((_, k) => right.slice(k * group, (k + 1) * group).reduce((a, b) => a + b));
const share = (f: (c: number) => boolean) =>
  `${((100 * counts.filter(f).length) / counts.length).toFixed(0)}%`;
console.log(
  `${dir}: ${chats.length} ${split} problems × ${group} samples; sample accuracy ${((100 * right.reduce((a, b) => a + b)) / right.length).toFixed(1)}%, pass@${group} ${share((c) => c > 0)}, groups all wrong ${share((c) => c === 0)}, all right ${share((c) => c === group)}`,
);
model.dispose();
device.destroy();
