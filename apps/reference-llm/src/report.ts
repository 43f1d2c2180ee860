import { join } from 'node:path';
import { writeAtomic } from './checkpoint.js';
import type { Preset } from './presets.js';
import type { PretrainResult } from './train.js';

/** An SVG line chart of the training loss (smoothed) and the validation loss over steps. */
export function lossCurveSvg(
  train: readonly number[],
  val: readonly { step: number; loss: number }[],
): string {
  const [w, h, pad] = [640, 360, 40];
  const smooth: number[] = [];
  let ema = train[0] ?? 0;
  for (const v of train) {
    ema = 0.9 * ema + 0.1 * v;
    smooth.push(ema);
  }
  const all = [...smooth, ...val.map((v) => v.loss)];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const steps = Math.max(train.length, 1);
  const x = (s: number) => pad + ((w - 2 * pad) * s) / steps;
  const y = (v: number) => h - pad - ((h - 2 * pad) * (v - lo)) / Math.max(hi - lo, 1e-9);
  const path = smooth
    .map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`)
    .join('');
  const points = val
    .map(
      (v) =>
        `<circle cx="${x(v.step).toFixed(1)}" cy="${y(v.loss).toFixed(1)}" r="3" fill="#d62728"/>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">
<rect width="${w}" height="${h}" fill="white"/>
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#333"/>
<text x="${w / 2}" y="${h - 8}" text-anchor="middle">step (${steps})</text>
<text x="8" y="${pad - 10}">loss ${lo.toFixed(2)}–${hi.toFixed(2)} nats/token</text>
<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>${points}
<text x="${w - pad - 150}" y="${pad}" fill="#1f77b4">train (EMA 0.9)</text><text x="${w - pad - 150}" y="${pad + 16}" fill="#d62728">validation</text>
</svg>
`;
}

/** Writes report.json, report.md and loss.svg into the run folder. */
export function writeReport(
  dir: string,
  preset: Preset,
  r: PretrainResult,
  meta: { parameters: number; optimizer: string; device: string },
): void {
  const last = r.val.at(-1);
  const report = {
    preset: preset.name,
    ...meta,
    steps: r.steps,
    totalSteps: r.totalSteps,
    stopReason: r.stopReason ?? null,
    tokensPerSecond: Math.round(r.tokensPerSecond),
    finalTrainLoss: r.trainLoss.at(-1),
    validation: last,
    unigramBitsPerByte: r.unigramBpb,
    history: r.val,
  };
  writeAtomic(join(dir, 'report.json'), JSON.stringify(report, null, 1));
  writeAtomic(join(dir, 'loss.svg'), lossCurveSvg(r.trainLoss, r.val));
  const md = `# reference-llm pretrain: ${preset.name}

| | |
|---|---|
| parameters | ${meta.parameters} |
| optimizer | ${meta.optimizer} |
| device | ${meta.device} |
| steps | ${r.steps}${r.steps < r.totalSteps ? ` of ${r.totalSteps} (stopped by the time limit; the schedule was planned for ${r.totalSteps})` : ''} |
| throughput | ${Math.round(r.tokensPerSecond)} tokens/s |
| final train loss | ${r.trainLoss.at(-1)?.toFixed(4)} nats/token |
| validation loss | ${last?.loss.toFixed(4)} nats/token |
| validation bits per byte | ${last?.bpb.toFixed(3)} (unigram baseline ${r.unigramBpb.toFixed(3)}) |

![loss curve](loss.svg)
`;
  writeAtomic(join(dir, 'report.md'), md);
}
