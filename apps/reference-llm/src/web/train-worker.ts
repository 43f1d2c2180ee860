/**
 * The training page's worker (bundled at build time into `dist/web/train-worker.js`, started by
 * `web/train.ts`): trains the byte-level BPE tokenizer and the tiny preset's GPT on the start of
 * the bundled text — on WebGPU when the browser has it, else on `backend: 'auto'`'s fallback
 * (wasm, then the CPU reference) — posts every step's loss and tokens/s, then samples from the
 * model with the sampler. Asked to stop, it saves a checkpoint after the step under way (and
 * one at the end); asked to resume, it continues the saved run from its step; asked to inspect,
 * it reports what is saved.
 */
import { generateText } from '@tessera/sampler';
import { createDevice } from '@tessera/tensor-webgpu';
import shakespeare from '../../data/tinyshakespeare.txt';
import { PRESETS } from '../presets.js';
import { openCheckpointStore } from './checkpoint-store.js';
import { checkpointState, encodeCheckpoint } from './train-checkpoint.js';
import type { TrainMessage, TrainRequest } from './train-protocol.js';
import { newRun, resumedRun, TEXT_CHARS, trainStep } from './train-run.js';

const post = (message: TrainMessage) => postMessage(message);

let stopRequested = false;

async function train(request: Extract<TrainRequest, { type: 'train' }>): Promise<void> {
  const t0 = performance.now();
  const preset = PRESETS['tiny']!;
  const device = await createDevice({ backend: 'auto' });
  const store = await openCheckpointStore();
  const text = shakespeare.slice(0, TEXT_CHARS);
  const saved = request.resume ? await store.read() : undefined;
  if (request.resume && !saved) throw new Error(`no checkpoint is saved in ${store.kind}`);
  const run = saved
    ? await resumedRun(saved, preset, text, device)
    : newRun(preset, text, request.steps, device);
  const { model, tokenizer, state } = run;
  post({
    type: 'ready',
    backend: device.info.backend,
    parameters: model.numParameters(),
    vocabSize: tokenizer.vocabSize,
    msToReady: performance.now() - t0,
    state,
  });
  const save = async () => {
    await store.write(await encodeCheckpoint(run));
    post({ type: 'saved', state, store: store.kind });
  };
  const tokensPerStep = preset.batchSize * preset.seqLen;
  while (state.step < state.steps) {
    const start = performance.now();
    const loss = await trainStep(run);
    const seconds = (performance.now() - start) / 1000;
    post({ type: 'step', step: state.step, loss, tokensPerSecond: tokensPerStep / seconds });
    // A task boundary, so that a stop request posted during the step is delivered (on the CPU
    // backend a step resolves without ever yielding to the event loop).
    await new Promise((resolve) => setTimeout(resolve, 0));
    // Stopped at the last step, the run is finished: it saves and samples as any finished run.
    if (stopRequested && state.step < state.steps) return save();
  }
  await save();
  model.eval();
  const { topK, topP, ...sampling } = request.sampling;
  const sample = await generateText(model, tokenizer, request.prompt, {
    ...sampling,
    ...(topK > 0 ? { topK } : {}),
    ...(topP < 1 ? { topP } : {}),
  });
  post({ type: 'sample', text: request.prompt + sample });
}

async function inspect(): Promise<void> {
  const store = await openCheckpointStore();
  const bytes = await store.read();
  post({ type: 'stored', state: bytes && checkpointState(bytes), store: store.kind });
}

addEventListener('message', (event: MessageEvent<TrainRequest>) => {
  const request = event.data;
  if (request.type === 'stop') stopRequested = true;
  else
    (request.type === 'inspect' ? inspect() : train(request)).catch((e: Error) =>
      post({ type: 'error', message: e.message }),
    );
});
