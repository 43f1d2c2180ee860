/**
 * The training page's worker (bundled at build time into `dist/web/train-worker.js`, started by
 * `web/train.ts`): trains the byte-level BPE tokenizer and the tiny preset's GPT on the start of
 * the bundled text — on WebGPU when the browser has it, else on `backend: 'auto'`'s fallback
 * (wasm, then the CPU reference) — posts every step's loss and tokens/s, then samples from the
 * model with the sampler.
 */
import { generateText } from '@tessera/sampler';
import { createDevice } from '@tessera/tensor-webgpu';
import { trainBpe } from '@tessera/tokenizer';
import { DecoderLM } from '@tessera/transformer';
import shakespeare from '../../data/tinyshakespeare.txt';
import { batchAt } from '../batch.js';
import { languageModelStep } from '../lm-step.js';
import { buildOptimizer } from '../optimizer.js';
import { PRESETS } from '../presets.js';
import type { TrainMessage, TrainRequest } from './train-protocol.js';

/** Characters of the bundled text trained on: enough for the tiny preset, quick to tokenize. */
const TEXT_CHARS = 200_000;

const post = (message: TrainMessage) => postMessage(message);

async function train(request: TrainRequest): Promise<void> {
  const t0 = performance.now();
  const preset = PRESETS['tiny']!;
  const device = await createDevice({ backend: 'auto' });
  const text = shakespeare.slice(0, TEXT_CHARS);
  const tokenizer = trainBpe([text], {
    vocabSize: preset.vocabSize,
    specialTokens: ['<|endoftext|>'],
  });
  const ids = Int32Array.from(tokenizer.encode(text, { disallowedSpecial: [] }));
  const model = new DecoderLM({ ...preset.model, vocabSize: tokenizer.vocabSize }, device);
  const { optimizer } = buildOptimizer('adamw', model, preset, request.steps);
  post({
    type: 'ready',
    backend: device.info.backend,
    parameters: model.numParameters(),
    vocabSize: tokenizer.vocabSize,
    msToReady: performance.now() - t0,
  });
  const tokensPerStep = preset.batchSize * preset.seqLen;
  for (let step = 1; step <= request.steps; step++) {
    const start = performance.now();
    const batch = batchAt(ids, preset.batchSize, preset.seqLen, step, device);
    const loss = await languageModelStep(model, optimizer, batch);
    const seconds = (performance.now() - start) / 1000;
    post({ type: 'step', step, loss, tokensPerSecond: tokensPerStep / seconds });
  }
  model.eval();
  const sample = await generateText(model, tokenizer, request.prompt, {
    maxNewTokens: request.maxNewTokens,
    temperature: request.temperature,
    seed: 1,
  });
  post({ type: 'sample', text: request.prompt + sample });
}

addEventListener('message', (event: MessageEvent<TrainRequest>) => {
  train(event.data).catch((e: Error) => post({ type: 'error', message: e.message }));
});
