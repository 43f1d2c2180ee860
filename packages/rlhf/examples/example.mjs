import { dpoLoss, gae, maskedWhiten, packSequences, sftLoss } from '@tessera/rlhf';
import { createDevice, randn, tensor } from '@tessera/tensor-webgpu';

const dev = await createDevice();

// SFT: pack two tokenized chats into rows of 10 tokens and learn the assistant tokens only.
const batch = packSequences(
  [
    { ids: [1, 5, 6, 2, 7, 8], completionMask: [0, 0, 0, 1, 1, 1] },
    { ids: [1, 3, 2, 4], completionMask: [0, 0, 1, 1] },
  ],
  { length: 10 },
);
const shape = [batch.rows, batch.length];
const ids = tensor(batch.ids, { shape, dtype: 'i32' });
const logits = randn([...shape, 10], { seed: 1 }); // what a model would return for ids
const sft = sftLoss(logits, ids, tensor(batch.lossMask, { shape }));
console.log(`SFT loss ${(await sft.item()).toFixed(4)} over ${batch.rows} packed row(s)`);

// DPO is ln 2 while the policy equals the reference.
const logps = tensor([-12.5, -30.25]);
const same = {
  chosenLogps: logps,
  rejectedLogps: logps,
  refChosenLogps: logps,
  refRejectedLogps: logps,
};
console.log(
  `DPO loss at initialisation ${(await dpoLoss(same).loss.item()).toFixed(6)} (ln 2 = 0.693147)`,
);

// PPO: advantages by GAE over two completions of 3 and 2 tokens, then whitened.
const mask = tensor([
  [1, 1, 1],
  [1, 1, 0],
]);
const rewards = tensor([
  [0, 0, 1],
  [0, -1, 0],
]);
const { advantages } = await gae(rewards, randn([2, 3], { seed: 2 }), mask, {
  gamma: 1,
  lambda: 0.95,
});
console.log(
  'whitened advantages',
  Array.from(await maskedWhiten(advantages, mask).data(), (a) => a.toFixed(3)).join(' '),
);
dev.destroy();
