#!/usr/bin/env node
// The most complete demo until the reference pipeline lands: a character-level bigram language
// model trained on Shakespeare with @tessera/tensor-webgpu (WebGPU, or the CPU backend), then
// sampled. Its validation loss is compared with the unigram baseline, in bits per character.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as T from '@tessera/tensor-webgpu';

const steps = Number(process.env.DEMO_STEPS ?? 200);
const batch = 2048;
const text = readFileSync(
  join(import.meta.dirname, '..', 'apps', 'reference-llm', 'data', 'tinyshakespeare.txt'),
  'utf8',
);
const chars = [...new Set(text)].sort();
const vocab = chars.length;
const ids = Int32Array.from(text, (c) => chars.indexOf(c));
const split = Math.floor(ids.length * 0.9);

const dev = await T.createDevice();
console.log(
  `device: ${dev.info.backend} (${dev.info.adapter}); ${ids.length} characters, vocabulary ${vocab}`,
);

// Mean cross-entropy (nats) of logits [B, V] against integer targets [B], written with core ops.
function crossEntropy(logits, targets) {
  const max = T.max(logits, 1, { keepDim: true });
  const lse = T.add(T.log(T.sum(T.exp(T.sub(logits, max)), 1, { keepDim: true })), max);
  const onehot = T.eq(T.reshape(targets, [-1, 1]), T.arange(vocab, undefined, 1, { dtype: 'i32' }));
  return T.mean(T.sub(lse, T.sum(T.mul(logits, onehot), 1, { keepDim: true })));
}

const offsets = T.arange(vocab, undefined, 1, { dtype: 'i32' });
const W = T.zeros([vocab, vocab], { requiresGrad: true });
// Random start positions of (input, next character) pairs, from the seeded core RNG.
const positions = async (seed, start, end) =>
  Int32Array.from(await T.randint(start, end - 1, [batch], { seed }).data());

function loss(xs) {
  const x = T.tensor(Int32Array.from(xs, (p) => ids[p]));
  const y = T.tensor(Int32Array.from(xs, (p) => ids[p + 1]));
  const onehot = T.eq(T.reshape(x, [-1, 1]), offsets);
  return crossEntropy(T.matmul(onehot, W), y);
}

const started = performance.now();
for (let step = 1; step <= steps; step++) {
  const xs = await positions(step, 0, split);
  const value = T.tidy(() => {
    const l = loss(xs);
    l.backward();
    T.noGrad(() => W.copy_(T.sub(W, T.mul(W.grad, 50))));
    W.grad.dispose();
    W.grad = null;
    return l;
  });
  if (step % 50 === 0 || step === 1) {
    const secs = (performance.now() - started) / 1000;
    console.log(
      `step ${String(step).padStart(4)}/${steps}  train loss ${(await value.item()).toFixed(4)} nats  ${(step / secs).toFixed(1)} steps/s`,
    );
  }
  value.dispose();
}

// Validation in bits per character, against a unigram model fitted on the training split.
const counts = new Float64Array(vocab).fill(1);
for (let i = 0; i < split; i++) counts[ids[i]]++;
const total = counts.reduce((a, b) => a + b, 0);
let unigram = 0;
for (let i = split; i < ids.length; i++) unigram -= Math.log2(counts[ids[i]] / total);
unigram /= ids.length - split;
const valPositions = await positions(12345, split, ids.length);
const val = await T.noGrad(() => loss(valPositions)).item();
console.log(
  `validation: bigram ${(val / Math.LN2).toFixed(3)} bits/char vs unigram baseline ${unigram.toFixed(3)} bits/char`,
);

// Sample 300 characters from the learned transition table.
const table = await T.noGrad(() => T.exp(T.sub(W, T.max(W, 1, { keepDim: true })))).data();
let c = chars.indexOf('\n');
let out = '';
let seed = 7;
for (let i = 0; i < 300; i++) {
  const row = table.subarray(c * vocab, (c + 1) * vocab);
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  let r = (seed / 2 ** 31) * row.reduce((a, b) => a + b, 0);
  c = 0;
  while (c < vocab - 1 && r >= row[c]) r -= row[c++];
  out += chars[c];
}
console.log(`--- sample ---\n${out}\n---`);
dev.destroy();
