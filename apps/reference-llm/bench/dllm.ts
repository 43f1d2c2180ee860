/**
 * Diffusion decoding against autoregressive decoding, with trained models: a `dllm train` run
 * and a `pretrain` run of the same preset and data. For 32, 64 and 128 generated tokens after
 * prompts from the validation text, it times the autoregressive model with its KV cache (the
 * baseline) and the diffusion model at 1, 1/2, 1/4 and 1/8 forward passes per token and with
 * Fast-dLLM's confidence threshold, taking turns prompt by prompt in one run; and it scores every
 * sample by the autoregressive model's perplexity (with up to a window of context), beside the
 * perplexity of the real text that followed each prompt.
 *
 *   npm run bench:dllm -w @tessera/reference-llm -- --dllm runs/dllm-tiny --ar runs/tiny
 *     [--prompts 4] [--temperature 1] [--thresholds 0.9,0.5]
 */
import { parseArgs } from 'node:util';
import { denoise } from '@tessera/dllm';
import { type CausalLM, generate, tokenLogprobs } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import type { DecoderCache } from '@tessera/transformer';
import { DEFAULT_DATA, readText, splitText } from '../src/data.js';
import { loadDiffusionCheckpoint } from '../src/dllm/load.js';
import { loadCheckpoint } from '../src/load.js';

const { values } = parseArgs({
  options: {
    dllm: { type: 'string', default: 'runs/dllm-tiny' },
    ar: { type: 'string', default: 'runs/tiny' },
    prompts: { type: 'string', default: '4' },
    temperature: { type: 'string', default: '1' },
    thresholds: { type: 'string', default: '0.9,0.5' },
  },
});
const temperature = Number(values.temperature);
const thresholds = values.thresholds.split(',').map(Number);
const device = await T.createDevice();
const diffusion = loadDiffusionCheckpoint(values.dllm, device);
const ar = loadCheckpoint(values.ar, device);
const tokenizer = ar.tokenizer;
const window = ar.model.config.maxSeqLen;
const encode = (s: string) => tokenizer.encode(s, { disallowedSpecial: [] });

// Prompts: 8 tokens from the start of evenly spaced validation lines; the real text follows.
const { val } = splitText(readText(DEFAULT_DATA));
const lines = [...val.matchAll(/\n(?=[A-Z])/g)].map((m) => m.index! + 1);
const promptCount = Number(values.prompts);
const starts = Array.from(
  { length: promptCount },
  (_, i) => lines[Math.floor(((i + 0.5) * lines.length) / promptCount)]!,
);
const prompts = starts.map((s) => encode(val.slice(s, s + 400)).slice(0, 8));
const reals = starts.map((s) => encode(val.slice(s, s + 2000)).slice(8));

let arPasses = 0;
const counted: CausalLM<DecoderCache> = {
  vocabSize: ar.model.vocabSize,
  device,
  maxSequenceLength: window,
  createCache: (rows, maxLength) => ar.model.createCache(rows, maxLength),
  forward: (ids, options) => {
    arPasses++;
    return ar.model.forward(ids, options);
  },
};

/** The autoregressive model's NLL (nats) of `sample` after `prompt`, each token with up to a window of context. */
async function arNll(prompt: readonly number[], sample: readonly number[]): Promise<number> {
  const all = [...prompt, ...sample];
  let nats = 0;
  for (let a = prompt.length; a < all.length; a += window / 2) {
    const b = Math.min(all.length, a + window / 2);
    const from = Math.max(0, b - window);
    const ids = T.tensor(Int32Array.from(all.slice(from, b)), { shape: [1, b - from], device });
    const total = T.noGrad(() =>
      T.tidy(() => T.sum(tokenLogprobs(ar.model, ids, { from: a - from }))),
    );
    nats -= await total.item();
    ids.dispose();
    total.dispose();
  }
  return nats;
}

/** Share of distinct bigrams among a sample's bigrams (1: no repetition). */
function distinctBigrams(ids: readonly number[]): number {
  const pairs = ids.slice(1).map((id, i) => `${ids[i]},${id}`);
  return new Set(pairs).size / Math.max(1, pairs.length);
}

interface Setting {
  name: string;
  run: (
    prompt: readonly number[],
    length: number,
    seed: number,
  ) => Promise<{ tokens: number[]; passes: number }>;
}

const blockFor = (prompt: readonly number[], length: number) =>
  prompt.length + length <= window ? length : window / 2;
const settings: Setting[] = [
  {
    name: 'autoregressive, KV cache',
    run: async (prompt, length, seed) => {
      arPasses = 0;
      const tokens: number[] = [];
      for await (const id of generate(counted, prompt, { maxNewTokens: length, temperature, seed }))
        tokens.push(id);
      return { tokens, passes: arPasses };
    },
  },
  ...[1, 2, 4, 8].map(
    (perPass): Setting => ({
      name: `diffusion, ${perPass} token${perPass > 1 ? 's' : ''} per step`,
      run: async (prompt, length, seed) => {
        const r = await denoise(
          diffusion.model,
          { left: [prompt], length },
          { steps: length / perPass, blockLength: blockFor(prompt, length), temperature, seed },
        );
        return { tokens: r.tokens[0]!, passes: r.forwardPasses };
      },
    }),
  ),
  ...thresholds.map(
    (threshold): Setting => ({
      name: `diffusion, threshold ${threshold}`,
      run: async (prompt, length, seed) => {
        const r = await denoise(
          diffusion.model,
          { left: [prompt], length },
          { threshold, blockLength: blockFor(prompt, length), temperature, seed },
        );
        return { tokens: r.tokens[0]!, passes: r.forwardPasses };
      },
    }),
  ),
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `dllm bench on ${device.info.adapter}: ${values.dllm} against ${values.ar}, ${promptCount} prompts of 8 validation tokens, temperature ${temperature}\n`,
);
console.log(
  '| tokens | decoder | forward passes / token | ms / token | time ÷ autoregressive | AR perplexity of the samples (median) | distinct bigrams |',
);
console.log('|---:|---|---:|---:|---:|---:|---:|');
for (const length of [32, 64, 128]) {
  // Warm-up: every pipeline compiled before anything is timed.
  for (const s of settings) await s.run(prompts[0]!, length, 0);
  const stats = settings.map(() => ({
    ms: 0,
    passes: 0,
    tokens: 0,
    ppl: [] as number[],
    distinct: [] as number[],
  }));
  for (const [p, prompt] of prompts.entries())
    for (const [i, s] of settings.entries()) {
      const start = performance.now();
      const r = await s.run(prompt, length, p + 1);
      stats[i]!.ms += performance.now() - start;
      stats[i]!.passes += r.passes;
      stats[i]!.tokens += r.tokens.length;
      stats[i]!.ppl.push(Math.exp((await arNll(prompt, r.tokens)) / r.tokens.length));
      stats[i]!.distinct.push(distinctBigrams(r.tokens));
    }
  const base = stats[0]!.ms;
  for (const [i, s] of settings.entries()) {
    const x = stats[i]!;
    console.log(
      `| ${length} | ${s.name} | ${(x.passes / x.tokens).toFixed(3)} | ${(x.ms / x.tokens).toFixed(1)} | ${(x.ms / base).toFixed(2)} | ${median(x.ppl).toFixed(1)} | ${(x.distinct.reduce((a, b) => a + b, 0) / x.distinct.length).toFixed(2)} |`,
    );
  }
  const real = await Promise.all(
    prompts.map(async (p, i) => Math.exp((await arNll(p, reals[i]!.slice(0, length))) / length)),
  );
  const realDistinct = reals.map((r) => distinctBigrams(r.slice(0, length)));
  console.log(
    `| ${length} | the real text after the prompt | | | | ${median(real).toFixed(1)} | ${(realDistinct.reduce((a, b) => a + b, 0) / realDistinct.length).toFixed(2)} |`,
  );
}
diffusion.model.dispose();
ar.model.dispose();
device.destroy();
