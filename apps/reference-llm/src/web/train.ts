/**
 * The training page's script (bundled at build time into `dist/web/train.js`, inlined by the
 * server into the page at `/train` with the worker's bundle): starts the worker, draws the loss
 * curve as it arrives with the rate in tokens per second, then shows the sample. Stop asks the
 * worker to save a checkpoint (`checkpoint-store.ts`); the page offers Resume for a saved run
 * that has steps left, after a reload too. Plain DOM and SVG: no framework.
 */
import type { TrainState } from './train-checkpoint.js';
import type { SampleSettings, TrainMessage, TrainRequest } from './train-protocol.js';

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const steps = element<HTMLInputElement>('steps');
const prompt = element<HTMLInputElement>('prompt');
const start = element<HTMLButtonElement>('start');
const stop = element<HTMLButtonElement>('stop');
const resume = element<HTMLButtonElement>('resume');
const status = element<HTMLSpanElement>('status');
const saved = element<HTMLSpanElement>('saved');
const notice = element<HTMLParagraphElement>('notice');
const chart = document.getElementById('chart') as unknown as SVGSVGElement;
const curve = document.getElementById('curve') as unknown as SVGPolylineElement;
const sample = element<HTMLPreElement>('sample');
const range = element<HTMLSpanElement>('range');
const settings = ['temperature', 'top-k', 'top-p', 'max-tokens', 'seed'].map((id) =>
  element<HTMLInputElement>(id),
);

/**
 * The loss curve's points in the chart's 0..100 × 0..50 box, from the highest loss at the top to
 * the lowest at the bottom (so that a fall of a few tenths shows), and the axes' range beside it.
 */
function drawCurve(losses: number[], total: number): void {
  const top = Math.max(...losses);
  const bottom = Math.min(...losses);
  const y = (loss: number) => 50 - (50 * (loss - bottom)) / (top - bottom || 1);
  curve.setAttribute(
    'points',
    losses.map((l, i) => `${((100 * (i + 1)) / total).toFixed(2)},${y(l).toFixed(2)}`).join(' '),
  );
  chart.dataset['losses'] = JSON.stringify(losses);
  range.textContent = `loss (nats/token) from ${top.toFixed(3)} at the top to ${bottom.toFixed(3)} at the bottom; steps 1 to ${total} left to right`;
}

/** The sample's settings from the page's fields, checked (a bad field names itself). */
function sampleSettings(): SampleSettings {
  const [temperature, topK, topP, maxNewTokens, seed] = settings.map((input) => {
    if (!input.checkValidity() || input.value === '')
      throw new Error(
        `${input.labels?.[0]?.textContent?.trim() ?? input.id}: ${input.validationMessage || 'a number is needed'}`,
      );
    return Number(input.value);
  });
  return {
    temperature: temperature!,
    topK: topK!,
    topP: topP!,
    maxNewTokens: maxNewTokens!,
    seed: seed!,
  };
}

/** Shows what is saved, and offers Resume when the saved run has steps left. */
function showSaved(state: TrainState | undefined, store: string): void {
  saved.textContent = state ? `saved in ${store}: step ${state.step}/${state.steps}` : '';
  resume.disabled = !state || state.step >= state.steps;
}

function setRunning(running: boolean): void {
  start.disabled = running;
  stop.disabled = !running;
  if (running) resume.disabled = true;
}

let worker: Worker | undefined;

/** A worker from the bundle inlined in the page. */
function startWorker(): Worker {
  const source = element<HTMLScriptElement>('worker-source').textContent ?? '';
  return new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
}

function run(resumeSaved: boolean): void {
  let sampling: SampleSettings;
  try {
    sampling = sampleSettings();
  } catch (e) {
    status.textContent = `error: ${(e as Error).message}`;
    return;
  }
  worker = startWorker();
  const request: TrainRequest = {
    type: 'train',
    resume: resumeSaved,
    steps: Number(steps.value),
    prompt: prompt.value,
    sampling,
  };
  let losses: number[] = [];
  let total = request.steps;
  setRunning(true);
  sample.textContent = '';
  status.textContent = resumeSaved ? 'loading the checkpoint…' : 'training the tokenizer…';
  const end = () => {
    setRunning(false);
    worker?.terminate();
    worker = undefined;
  };
  worker.onmessage = (event: MessageEvent<TrainMessage>) => {
    const m = event.data;
    if (m.type === 'ready') {
      ({ losses, steps: total } = m.state);
      steps.value = String(total);
      if (losses.length > 0) drawCurve(losses, total);
      status.textContent = `${m.parameters} parameters on ${m.backend}, ready in ${(m.msToReady / 1000).toFixed(1)} s${m.state.step > 0 ? `, resuming at step ${m.state.step}` : ''}`;
      notice.textContent =
        m.backend === 'webgpu'
          ? ''
          : `This browser has no WebGPU (navigator.gpu): training on the CPU instead, on the ${m.backend} backend.`;
    } else if (m.type === 'step') {
      losses.push(m.loss);
      drawCurve(losses, total);
      status.textContent = `step ${m.step}/${total}: loss ${m.loss.toFixed(3)}, ${Math.round(m.tokensPerSecond)} tok/s`;
    } else if (m.type === 'saved') {
      showSaved(m.state, m.store);
      if (m.state.step < m.state.steps) end(); // stopped; a finished run goes on to its sample
    } else if (m.type === 'sample') {
      sample.textContent = m.text;
      end();
    } else if (m.type === 'error') {
      status.textContent = `error: ${m.message}`;
      end();
    }
  };
  worker.postMessage(request);
}

start.addEventListener('click', () => run(false));
resume.addEventListener('click', () => run(true));
stop.addEventListener('click', () => {
  stop.disabled = true;
  status.textContent += ' — stopping after this step…';
  worker?.postMessage({ type: 'stop' } satisfies TrainRequest);
});

// What is saved, asked of a worker of its own (the page holds no checkpoint code).
const inspector = startWorker();
inspector.onmessage = (event: MessageEvent<TrainMessage>) => {
  const m = event.data;
  if (m.type === 'stored') {
    if (!worker) showSaved(m.state, m.store);
  } else if (m.type === 'error')
    saved.textContent = `the saved checkpoint cannot be read: ${m.message}`;
  inspector.terminate();
};
inspector.postMessage({ type: 'inspect' } satisfies TrainRequest);
