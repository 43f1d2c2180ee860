/**
 * Memory soak: reloads a model from its checkpoint and generates, round after round, and shows
 * that the device's live bytes stay flat — every model, KV cache and temporary is freed, whether
 * generation runs to its end or the consumer abandons it. Even rounds generate 16 tokens; odd
 * rounds stop after 4 (the generator's `finally` frees the cache).
 *
 *   npm run bench -w @tessera/transformer              200 rounds
 *   npm run bench -w @tessera/transformer -- --short   20 rounds (CI); exit code 1 if live bytes grew
 */
import { generate } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { DecoderLM, type TransformerConfig } from '../src/index.js';

const short = process.argv.includes('--short');
const rounds = short ? 20 : 200;
const config: TransformerConfig = {
  vocabSize: 256,
  dModel: 64,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  maxSeqLen: 64,
  seed: 1,
};
const dev = await T.createDevice();
console.log(`adapter: ${dev.info.adapter}; ${rounds} rounds of load → generate → dispose\n`);

const source = new DecoderLM(config, dev);
const checkpoint = await source.save();
source.dispose();

async function round(i: number): Promise<void> {
  const lm = new DecoderLM(config, dev);
  lm.load(checkpoint);
  const prompt = [1 + (i % 200), 7, 42];
  let n = 0;
  for await (const _ of generate(lm, prompt, { temperature: 0.8, seed: i, maxNewTokens: 16 })) {
    if (i % 2 === 1 && ++n === 4) break; // abandoned early
  }
  lm.dispose();
}

const rows: string[] = [];
let first = 0;
let last = 0;
for (let i = 1; i <= rounds; i++) {
  await round(i);
  const m = dev.memory();
  if (i === 1) first = m.liveBytes;
  last = m.liveBytes;
  if (i === 1 || i === rounds || i % (rounds / 10) === 0)
    rows.push(
      `| ${i} | ${m.liveBytes} | ${m.liveTensors} | ${m.pooledBytes} | ${m.buffersCreated} | ${m.liveBytes - first} |`,
    );
}
console.log(
  '| round | live bytes | live tensors | pooled bytes | buffers created | live bytes − round 1 |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
const grew = last > first;
console.log(
  `\nlive bytes after round 1: ${first}; after round ${rounds}: ${last} (${grew ? `grew by ${last - first}` : 'flat'})`,
);
dev.destroy();
process.exit(grew ? 1 : 0);
