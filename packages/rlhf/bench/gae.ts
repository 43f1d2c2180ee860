/**
 * GAE for a PPO batch: `gae` (one read-back of rewards, values and mask, the recursion on the
 * host, one upload of advantages and returns) against the same recursion as T rounds of device
 * ops (a column slice per step, then a stack), each until the advantages are readable, in one
 * run. `npm run bench -w @tessera/rlhf`
 */
import * as T from '@tessera/tensor-webgpu';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { gae } from '../src/index.js';

const gamma = 1;
const lambda = 0.95;
const dev = await T.createDevice({ backend: 'webgpu' });
console.log(`adapter: ${dev.info.adapter}\n`);

/** The right-to-left recursion as device ops (TRL's loop over masked rewards and values). */
function deviceGae(rewards: T.Tensor, values: T.Tensor, mask: T.Tensor): T.Tensor {
  const length = rewards.shape[1]!;
  const r = T.mul(rewards, mask);
  const v = T.mul(values, mask);
  const columns: T.Tensor[] = [];
  let last: T.Tensor | undefined;
  for (let t = length - 1; t >= 0; t--) {
    let delta = T.sub(T.slice(r, 1, t, t + 1), T.slice(v, 1, t, t + 1));
    if (last) {
      delta = T.add(delta, T.mul(T.slice(v, 1, t + 1, t + 2), gamma));
      last = T.add(delta, T.mul(last, gamma * lambda));
    } else last = delta;
    columns.push(last);
  }
  return T.mul(T.cat(columns.reverse(), 1), mask);
}

async function time(fn: () => Promise<void>, reps: number): Promise<number> {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await fn();
  return (performance.now() - t0) / reps;
}

console.log('| batch × tokens | gae (host recursion) | device ops (T steps) | gae vs device |');
console.log('|---|---|---|---|');
for (const [batch, length] of [
  [16, 128],
  [64, 512],
] as const) {
  const rewards = T.randn([batch, length], { seed: 1 });
  const values = T.randn([batch, length], { seed: 2 });
  const mask = T.ones([batch, length]);
  // Both compute the same advantages (else the comparison means nothing).
  const check = await gae(rewards, values, mask, { gamma, lambda });
  const error = maxRelError(
    await T.tidy(() => deviceGae(rewards, values, mask)).data(),
    await check.advantages.data(),
  );
  if (error > 1e-4) throw new Error(`device recursion differs from gae by ${error}`);
  const host = await time(async () => {
    const out = await gae(rewards, values, mask, { gamma, lambda });
    await out.advantages.data();
    out.advantages.dispose();
    out.returns.dispose();
  }, 20);
  const device = await time(async () => {
    const out = T.tidy(() => deviceGae(rewards, values, mask));
    await out.data();
    out.dispose();
  }, 3);
  console.log(
    `| ${batch} × ${length} | ${host.toFixed(1)} ms | ${device.toFixed(1)} ms | ${(device / host).toFixed(1)}× faster |`,
  );
}
dev.destroy();
process.exit(0);
