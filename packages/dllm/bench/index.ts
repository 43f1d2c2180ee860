// What diffusion decoding costs against autoregressive decoding with the KV cache, on random
// weights of the reference app's `tiny` shape and a wider one: a 64-token generation at several
// step counts, each timed against a same-shape DecoderLM's KV-cache decoding in the same run
// (rounds take turns). Without a threshold the step count fixes the forward passes, so the
// weights do not matter; the reference app's `bench:dllm` measures trained models, threshold
// decoding and sample quality. `npm run bench -w @tessera/dllm` (`-- --quick`: tiny only).
import { generate as arGenerate } from '@tessera/sampler';
import * as T from '@tessera/tensor-webgpu';
import { DecoderLM, type TransformerConfig } from '@tessera/transformer';
import { denoise, MaskedDiffusionLM } from '../src/index.js';

const quick = process.argv.includes('--quick');
const device = await T.createDevice({ backend: 'webgpu' });
T.setDefaultDevice(device);
const LENGTH = 64;
const PROMPT = [1, 2, 3, 4];
const ROUNDS = 3;

const shapes: [string, TransformerConfig][] = [
  [
    'tiny (2×48)',
    {
      vocabSize: 385,
      dModel: 48,
      layers: 2,
      heads: 4,
      kvHeads: 2,
      maxSeqLen: 128,
      tiedEmbeddings: true,
      seed: 1,
    },
  ],
  ...(quick
    ? []
    : ([
        [
          '4×128',
          {
            vocabSize: 385,
            dModel: 128,
            layers: 4,
            heads: 4,
            maxSeqLen: 128,
            tiedEmbeddings: true,
            seed: 1,
          },
        ],
      ] as [string, TransformerConfig][])),
];

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(
  `dllm bench on ${device.info.adapter}: ${LENGTH} tokens after a ${PROMPT.length}-token prompt, median of ${ROUNDS} rounds taking turns\n`,
);
console.log(
  '| shape | decoder | forward passes | forward passes / token | ms | ms / token | × KV-cache AR time |',
);
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const [name, config] of shapes) {
  const ar = new DecoderLM({ ...config, vocabSize: config.vocabSize - 1 }, device);
  const diffusion = new MaskedDiffusionLM(config, { maskId: config.vocabSize - 1 }, device);
  ar.eval();
  diffusion.eval();
  const runs: [string, number, () => Promise<unknown>][] = [
    [
      'autoregressive, KV cache',
      LENGTH,
      async () => {
        for await (const _ of arGenerate(ar, PROMPT, { maxNewTokens: LENGTH, temperature: 0 }));
      },
    ],
    ...[64, 32, 16, 8].map((steps): [string, number, () => Promise<unknown>] => [
      `diffusion, ${steps} steps`,
      steps,
      () => denoise(diffusion, { left: [PROMPT], length: LENGTH }, { steps, temperature: 0 }),
    ]),
  ];
  for (const [, , run] of runs) await run(); // warm-up: pipelines compile
  const times = runs.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++)
    for (const [i, [, , run]] of runs.entries()) times[i]!.push(await timed(run));
  const base = median(times[0]!);
  for (const [i, [label, passes]] of runs.entries()) {
    const ms = median(times[i]!);
    console.log(
      `| ${name} | ${label} | ${passes} | ${(passes / LENGTH).toFixed(3)} | ${ms.toFixed(0)} | ${(ms / LENGTH).toFixed(2)} | ${(ms / base).toFixed(2)} |`,
    );
  }
  ar.dispose();
  diffusion.dispose();
}
device.destroy();
