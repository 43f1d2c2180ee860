/**
 * Single-stream greedy decoding of the `tiny` model: Tessera (WebGPU, and the CPU backend)
 * against transformers.js (`@huggingface/transformers` on onnxruntime's CPU backend), in one run
 * of alternating rounds, on the same weights — and whether the two produce the same tokens.
 *
 * transformers.js runs ONNX models only and cannot read our safetensors, so the model is a
 * committed fixture (bench/fixtures/tiny-onnx: a 100-step `tiny` checkpoint, exported by
 * bench/make_tiny_onnx.py with Hugging Face transformers). transformers.js is not a dependency
 * (it brings onnxruntime, ~100 MB): `npm install --no-save --ignore-scripts
 * @huggingface/transformers` first, else this half is skipped with a note.
 */
import { readFileSync } from 'node:fs';
import { generate } from '@tessera/sampler';
import { createDevice, type Device } from '@tessera/tensor-webgpu';
import { fromHuggingFaceJson, type Tokenizer } from '@tessera/tokenizer';
import { DecoderLM } from '@tessera/transformer';
import { PRESETS } from '../src/presets.js';

const FIXTURE = new URL('./fixtures/tiny-onnx/', import.meta.url).pathname;
const PROMPT = 'ROMEO:';
const NEW_TOKENS = 56; // prompt and reply within the 64-position window
const ROUNDS = 5;

const tokenizer = fromHuggingFaceJson(
  readFileSync(`${FIXTURE}tokenizer.json`, 'utf8'),
) as Tokenizer;
const prompt = Array.from(tokenizer.encode(PROMPT));

function tesseraModel(device: Device): DecoderLM {
  const model = new DecoderLM(
    { ...PRESETS.tiny!.model, vocabSize: PRESETS.tiny!.vocabSize },
    device,
  );
  model.load(new Uint8Array(readFileSync(`${FIXTURE}model.safetensors`)));
  model.eval();
  return model;
}

/** Greedy tokens and the milliseconds they took. */
type Decoder = () => Promise<{ tokens: number[]; ms: number }>;

function tesseraDecoder(model: DecoderLM): Decoder {
  return async () => {
    const started = performance.now();
    const tokens: number[] = [];
    for await (const id of generate(model, prompt, { temperature: 0, maxNewTokens: NEW_TOKENS }))
      tokens.push(id);
    return { tokens, ms: performance.now() - started };
  };
}

async function transformersJsDecoder(): Promise<[string, Decoder] | string> {
  const name = '@huggingface/transformers';
  let tjs: {
    env: { allowRemoteModels: boolean; localModelPath: string; version: string };
    AutoModelForCausalLM: {
      from_pretrained(
        id: string,
        o: object,
      ): Promise<{ generate(o: object): Promise<{ tolist(): bigint[][] }> }>;
    };
    Tensor: new (type: string, data: BigInt64Array, dims: number[]) => unknown;
  };
  try {
    tjs = await import(name);
  } catch {
    return `transformers.js skipped: ${name} is not installed (npm install --no-save --ignore-scripts ${name})`;
  }
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = new URL('./fixtures/', import.meta.url).pathname;
  const model = await tjs.AutoModelForCausalLM.from_pretrained('tiny-onnx', {
    dtype: 'fp32',
    device: 'cpu',
  });
  const ids = new tjs.Tensor('int64', BigInt64Array.from(prompt.map(BigInt)), [1, prompt.length]);
  const mask = new tjs.Tensor('int64', BigInt64Array.from(prompt.map(() => 1n)), [
    1,
    prompt.length,
  ]);
  return [
    `transformers.js ${tjs.env.version} (onnxruntime-node, CPU)`,
    async () => {
      const started = performance.now();
      const out = await model.generate({
        input_ids: ids,
        attention_mask: mask,
        max_new_tokens: NEW_TOKENS,
        min_new_tokens: NEW_TOKENS,
        do_sample: false,
      });
      const ms = performance.now() - started;
      return { tokens: out.tolist()[0]!.slice(prompt.length).map(Number), ms };
    },
  ];
}

const gpu = await createDevice({ backend: 'auto' });
const cpu = await createDevice({ backend: 'cpu' });
const decoders: [string, Decoder][] = [
  [`Tessera, ${gpu.info.adapter}`, tesseraDecoder(tesseraModel(gpu))],
  ['Tessera, CPU backend', tesseraDecoder(tesseraModel(cpu))],
];
const tjs = await transformersJsDecoder();
if (typeof tjs === 'string') console.log(tjs);
else decoders.push(tjs);

const best = new Map<string, number>();
const outputs = new Map<string, number[]>();
for (const [name, decode] of decoders) outputs.set(name, (await decode()).tokens); // warm-up
for (let round = 0; round < ROUNDS; round++)
  for (const [name, decode] of decoders) {
    const { tokens, ms } = await decode();
    best.set(name, Math.min(best.get(name) ?? Number.POSITIVE_INFINITY, ms));
    if (tokens.join() !== outputs.get(name)!.join())
      throw new Error(`${name}: greedy tokens changed between rounds`);
  }

console.log(
  `\ntiny model (69k parameters), prompt ${JSON.stringify(PROMPT)} (${prompt.length} tokens), ${NEW_TOKENS} greedy tokens, best of ${ROUNDS} alternating rounds\n`,
);
console.log('| decoder | ms per token | tokens/s | vs transformers.js |');
console.log('|---|---:|---:|---:|');
const reference = best.get(decoders[2]?.[0] ?? '');
for (const [name] of decoders) {
  const ms = best.get(name)! / NEW_TOKENS;
  const ratio = reference ? `${(reference / best.get(name)!).toFixed(2)}×` : '';
  console.log(`| ${name} | ${ms.toFixed(2)} | ${(1000 / ms).toFixed(0)} | ${ratio} |`);
}
const [first, ...others] = [...outputs.entries()];
for (const [name, tokens] of others) {
  const same = tokens.findIndex((t, i) => t !== first![1][i]);
  console.log(
    same < 0
      ? `${name}: the same ${tokens.length} greedy tokens as ${first![0]}`
      : `${name}: greedy tokens agree with ${first![0]} for the first ${same} of ${tokens.length}`,
  );
}
console.log(`reply: ${JSON.stringify(tokenizer.decode(first![1]))}`);
gpu.destroy();
cpu.destroy();
