import { join } from 'node:path';
import type { Schedule } from '@tessera/optim';
import { LineChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { writeAtomic } from './atomic-write.js';
import type { History } from './loop.js';

echarts.use([LineChart, ScatterChart, GridComponent, LegendComponent, TitleComponent, SVGRenderer]);

/** What a training stage reports at the end of a run. */
export interface RunReport {
  /** The heading, e.g. `reference-llm pretrain: tiny`. */
  title: string;
  /** Rows of the summary table: label, value. */
  facts: [string, string][];
  /** The figures for `report.json` (the history is added). */
  summary: Record<string, unknown>;
  history: History;
  /** Each optimizer group's learning-rate schedule, drawn in the chart's lower panel. */
  schedules: Record<string, Schedule>;
  /** More pictures (a tuning stage's reward, accuracy and KL curves; the ViT's accuracy, confusion and rollout), written beside the loss chart and shown in `report.md`. */
  figures?: { file: string; title: string; svg: string }[];
}

/** The chart's file name in the run folder. */
export const CHART = 'loss.svg';

/** Writes `report.json`, `report.md` and the loss chart (`loss.svg`) into the run folder. */
export function writeReport(dir: string, r: RunReport): void {
  writeAtomic(
    join(dir, 'report.json'),
    `${JSON.stringify({ ...r.summary, history: r.history.val }, null, 1)}\n`,
  );
  writeAtomic(join(dir, CHART), lossChartSvg(r.history, r.schedules));
  const rows = r.facts.map(([k, v]) => `| ${k} | ${v} |`).join('\n');
  for (const f of r.figures ?? []) writeAtomic(join(dir, f.file), f.svg);
  const more = (r.figures ?? []).map((f) => `\n![${f.title}](${f.file})\n`).join('');
  writeAtomic(
    join(dir, 'report.md'),
    `# ${r.title}\n\n| | |\n|---|---|\n${rows}\n\n![loss and learning rate](${CHART})\n${more}`,
  );
}

/**
 * A centred moving average: each point is the mean of the `2h + 1` points around it, the window
 * shrinking symmetrically at the ends. Unlike an exponential average it does not lag: the last
 * point is the last value itself.
 */
export function centredAverage(values: readonly number[], h: number): number[] {
  const prefix = [0];
  for (const v of values) prefix.push(prefix.at(-1)! + v);
  return values.map((_, i) => {
    const w = Math.min(h, i, values.length - 1 - i);
    return (prefix[i + w + 1]! - prefix[i - w]!) / (2 * w + 1);
  });
}

/** Every `stride`-th [step, value] pair (and the last), so a long run's chart stays small. */
function sampled(values: readonly number[], firstStep = 1, points = 1500): [number, number][] {
  const stride = Math.max(1, Math.ceil(values.length / points));
  const out: [number, number][] = [];
  for (let i = 0; i < values.length; i += stride) out.push([i + firstStep, values[i]!]);
  if ((values.length - 1) % stride !== 0) out.push([values.length - 1 + firstStep, values.at(-1)!]);
  return out;
}

const COLORS = {
  raw: '#9ecae1',
  smooth: '#1f77b4',
  val: '#d62728',
  lr: ['#2ca02c', '#9467bd', '#ff7f0e'],
};

/**
 * The loss chart as SVG (ECharts, server-side rendering): above, the training loss per step
 * (raw and a centred moving average) and the validation loss on the same axis; below, each
 * optimizer group's learning rate. Both panels share the step axis; both have ticks.
 */
export function lossChartSvg(history: History, schedules: Record<string, Schedule>): string {
  const steps = Math.max(history.trainLoss.length, history.val.at(-1)?.step ?? 0, 1);
  const h = Math.max(1, Math.floor(history.trainLoss.length / 40));
  const lrSeries = Object.entries(schedules).map(([name, schedule], i) => ({
    name: `lr ${name}`,
    type: 'line' as const,
    xAxisIndex: 1,
    yAxisIndex: 1,
    showSymbol: false,
    lineStyle: { width: 1.5 },
    color: COLORS.lr[i % COLORS.lr.length],
    // The lr of step s (1-based on the axis) is the schedule at 0-based step s - 1.
    data: sampled(Array.from({ length: steps }, (_, s) => schedule(s))),
  }));
  const axis = (gridIndex: number, name: string) => ({
    gridIndex,
    type: 'value' as const,
    name,
    nameLocation: 'middle' as const,
    nameGap: 48,
    scale: true,
    splitLine: { lineStyle: { color: '#eee' } },
  });
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 860, height: 620 });
  chart.setOption({
    animation: false,
    backgroundColor: '#fff',
    textStyle: { fontFamily: 'sans-serif' },
    title: { text: 'Training loss and learning rate', left: 'center', textStyle: { fontSize: 15 } },
    legend: [
      {
        top: 30,
        itemWidth: 18,
        itemGap: 28,
        data: ['train', `train, mean of ${2 * h + 1} steps`, 'validation'],
      },
      { top: 428, itemWidth: 18, itemGap: 28, data: lrSeries.map((l) => l.name) },
    ],
    grid: [
      { left: 80, right: 30, top: 70, height: 330 },
      { left: 80, right: 30, top: 460, height: 110 },
    ],
    xAxis: [
      { ...axis(0, ''), min: 0, max: steps, scale: false },
      { ...axis(1, 'step'), min: 0, max: steps, scale: false, nameGap: 28 },
    ],
    yAxis: [
      axis(0, 'loss (nats/token)'),
      { ...axis(1, 'learning rate'), nameGap: 58, splitNumber: 3 },
    ],
    series: [
      {
        name: 'train',
        type: 'line',
        showSymbol: false,
        lineStyle: { width: 1 },
        color: COLORS.raw,
        data: sampled(history.trainLoss),
      },
      {
        name: `train, mean of ${2 * h + 1} steps`,
        type: 'line',
        showSymbol: false,
        lineStyle: { width: 2 },
        color: COLORS.smooth,
        data: sampled(centredAverage(history.trainLoss, h)),
      },
      {
        name: 'validation',
        type: 'line',
        symbol: 'circle',
        symbolSize: 7,
        lineStyle: { width: 1.5, type: 'dashed' },
        color: COLORS.val,
        data: history.val.map((v) => [v.step, v.loss]),
      },
      ...lrSeries,
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return `${svg}\n`;
}
