/**
 * The training page's script (bundled at build time into `dist/web/train.js`, inlined by the
 * server into the page at `/train` with the worker's bundle): starts the worker, draws the loss
 * curve as it arrives with the rate in tokens per second, then shows the sample. Plain DOM and
 * SVG: no framework.
 */
import type { TrainMessage, TrainRequest } from './train-protocol.js';

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const steps = element<HTMLInputElement>('steps');
const prompt = element<HTMLInputElement>('prompt');
const start = element<HTMLButtonElement>('start');
const status = element<HTMLSpanElement>('status');
const notice = element<HTMLParagraphElement>('notice');
const chart = document.getElementById('chart') as unknown as SVGSVGElement;
const curve = document.getElementById('curve') as unknown as SVGPolylineElement;
const sample = element<HTMLPreElement>('sample');

/** The loss curve's points in the chart's 0..100 × 0..50 box, the first loss at the top. */
function drawCurve(losses: number[], total: number): void {
  const top = Math.max(...losses);
  const bottom = Math.min(...losses, 0);
  const y = (loss: number) => 50 - (50 * (loss - bottom)) / (top - bottom || 1);
  curve.setAttribute(
    'points',
    losses.map((l, i) => `${((100 * (i + 1)) / total).toFixed(2)},${y(l).toFixed(2)}`).join(' '),
  );
  chart.dataset['losses'] = JSON.stringify(losses);
}

start.addEventListener('click', () => {
  const source = element<HTMLScriptElement>('worker-source').textContent ?? '';
  const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
  const request: TrainRequest = {
    steps: Number(steps.value),
    prompt: prompt.value,
    maxNewTokens: 60,
    temperature: 0.8,
  };
  const losses: number[] = [];
  start.disabled = true;
  sample.textContent = '';
  status.textContent = 'training the tokenizer…';
  worker.onmessage = (event: MessageEvent<TrainMessage>) => {
    const m = event.data;
    if (m.type === 'ready') {
      status.textContent = `${m.parameters} parameters on ${m.backend}, ready in ${(m.msToReady / 1000).toFixed(1)} s`;
      if (m.backend !== 'webgpu')
        notice.textContent = `This browser has no WebGPU (navigator.gpu): training on the ${m.backend} backend, which is much slower.`;
    } else if (m.type === 'step') {
      losses.push(m.loss);
      drawCurve(losses, request.steps);
      status.textContent = `step ${m.step}/${request.steps}: loss ${m.loss.toFixed(3)}, ${Math.round(m.tokensPerSecond)} tok/s`;
    } else if (m.type === 'sample') {
      sample.textContent = m.text;
      start.disabled = false;
      worker.terminate();
    } else {
      status.textContent = `error: ${m.message}`;
      start.disabled = false;
      worker.terminate();
    }
  };
  worker.postMessage(request);
});
