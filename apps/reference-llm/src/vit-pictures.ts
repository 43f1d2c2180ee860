import * as T from '@tessera/tensor-webgpu';
import type { ViT } from '@tessera/vit';
import { HeatmapChart, LineChart } from 'echarts/charts';
import {
  GraphicComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  VisualMapComponent,
} from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { PNG } from 'pngjs';
import type { History } from './loop.js';
import { type Digits, digitBatch } from './mnist.js';

echarts.use([
  HeatmapChart,
  LineChart,
  GraphicComponent,
  GridComponent,
  LegendComponent,
  TitleComponent,
  VisualMapComponent,
  SVGRenderer,
]);

/** Renders an ECharts option as SVG (server side, no browser). */
function svg(option: echarts.EChartsCoreOption, width: number, height: number): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  chart.setOption({
    animation: false,
    backgroundColor: '#fff',
    textStyle: { fontFamily: 'sans-serif' },
    ...option,
  });
  const out = chart.renderToSVGString();
  chart.dispose();
  return `${out}\n`;
}

/** Held-out accuracy (%) against the step, one line per model. */
export function accuracyChartSvg(models: Record<string, History>): string {
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c'];
  const series = Object.entries(models).map(([name, h], i) => ({
    name,
    type: 'line',
    symbol: 'circle',
    symbolSize: 6,
    color: colors[i % colors.length],
    data: h.val.map((v) => [v.step, 100 * (v.accuracy ?? Number.NaN)]),
  }));
  const steps = Math.max(1, ...Object.values(models).map((h) => h.val.at(-1)?.step ?? 0));
  return svg(
    {
      title: {
        text: 'Accuracy on the 2,000 held-out digits',
        left: 'center',
        textStyle: { fontSize: 15 },
      },
      legend: { top: 30, data: Object.keys(models) },
      grid: { left: 70, right: 30, top: 70, bottom: 55 },
      xAxis: {
        type: 'value',
        name: 'step',
        nameLocation: 'middle',
        nameGap: 30,
        min: 0,
        max: steps,
      },
      yAxis: {
        type: 'value',
        name: 'accuracy (%)',
        nameLocation: 'middle',
        nameGap: 45,
        scale: true,
        max: 100,
        splitLine: { lineStyle: { color: '#eee' } },
      },
      series,
    },
    760,
    440,
  );
}

/**
 * The confusion matrix as a heatmap: rows the true class (0 at the top), columns the predicted
 * one, each cell's count written in it. Colours saturate at `saturate` digits so that the few
 * mistakes off the diagonal stand out next to the hundreds on it.
 */
export function confusionMatrixSvg(counts: number[][], saturate = 20): string {
  const classes = counts.map((_, i) => String(i));
  const data = counts.flatMap((row, t) => row.map((n, p) => [p, t, n]));
  return svg(
    {
      title: {
        text: 'Confusion matrix: held-out digits',
        left: 'center',
        textStyle: { fontSize: 15 },
      },
      grid: { left: 70, right: 90, top: 50, bottom: 60 },
      xAxis: {
        type: 'category',
        data: classes,
        name: 'predicted',
        nameLocation: 'middle',
        nameGap: 30,
        splitArea: { show: true },
      },
      yAxis: {
        type: 'category',
        data: classes,
        inverse: true,
        name: 'true',
        nameLocation: 'middle',
        nameGap: 35,
        splitArea: { show: true },
      },
      visualMap: {
        min: 0,
        max: saturate,
        calculable: false,
        orient: 'vertical',
        right: 10,
        top: 'middle',
        text: [`≥${saturate}`, '0'],
        inRange: { color: ['#ffffff', '#fdae6b', '#d94801', '#7f2704'] },
      },
      series: [
        {
          type: 'heatmap',
          data,
          label: { show: true, fontSize: 12, color: '#000' },
          itemStyle: { borderColor: '#ddd', borderWidth: 1 },
        },
      ],
    },
    620,
    560,
  );
}

/** A colour ramp from dark red through orange to pale yellow, for relevance in [0, 1]. */
function heat(v: number): [number, number, number] {
  const stops: [number, number, number][] = [
    [20, 0, 40],
    [180, 20, 30],
    [250, 140, 10],
    [255, 250, 180],
  ];
  const x = Math.min(1, Math.max(0, v)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  return [0, 1, 2].map((k) => Math.round(a[k]! + f * (b[k]! - a[k]!))) as [number, number, number];
}

/**
 * A digit as a PNG tile scaled `scale`×: grey ink on black, or, with `relevance` (a
 * rows×cols patch grid, scaled from its least to its most relevant patch), the relevance of each patch as a colour with the
 * digit's ink lightened over it. Nearest-neighbour: each patch stays a visible square.
 */
export function digitTilePng(
  pixels: Uint8Array,
  size: number,
  scale: number,
  relevance?: { values: ArrayLike<number>; rows: number; cols: number },
): Buffer {
  const png = new PNG({ width: size * scale, height: size * scale });
  // Scaled from the least to the most relevant patch of this digit.
  const values = relevance ? Array.from(relevance.values) : [0, 1];
  const low = Math.min(...values);
  const span = Math.max(Math.max(...values) - low, 1e-12);
  for (let y = 0; y < size * scale; y++)
    for (let x = 0; x < size * scale; x++) {
      const [py, px] = [Math.floor(y / scale), Math.floor(x / scale)];
      const ink = pixels[py * size + px]! / 255;
      let rgb: [number, number, number] = [ink * 255, ink * 255, ink * 255];
      if (relevance) {
        const r = Math.floor((py * relevance.rows) / size);
        const c = Math.floor((px * relevance.cols) / size);
        const h = heat((relevance.values[r * relevance.cols + c]! - low) / span);
        rgb = h.map((v) => v + 0.45 * ink * (255 - v)) as [number, number, number];
      }
      const at = 4 * (y * size * scale + x);
      png.data[at] = rgb[0];
      png.data[at + 1] = rgb[1];
      png.data[at + 2] = rgb[2];
      png.data[at + 3] = 255;
    }
  return PNG.sync.write(png);
}

/** One digit of the rollout picture: its pixels, label, prediction and relevance grid. */
export interface RolloutSample {
  pixels: Uint8Array;
  label: number;
  predicted: number;
  relevance: Float32Array;
}

/**
 * Attention-rollout maps as SVG (ECharts graphics with PNG tiles): for each sample, the digit and
 * beside it where the class token's attention flows from (the rollout over the patches), with
 * "label → prediction" under the pair, mistakes in red.
 */
export function rolloutSvg(
  samples: RolloutSample[],
  grid: readonly [number, number],
  size: number,
  perRow = 5,
): string {
  const scale = 3;
  const tile = size * scale;
  const pairWidth = 2 * tile + 6;
  const cellW = pairWidth + 24;
  const cellH = tile + 30;
  const top = 56;
  const rows = Math.ceil(samples.length / perRow);
  const graphic = samples.flatMap((s, i) => {
    const left = 20 + (i % perRow) * cellW;
    const y = top + Math.floor(i / perRow) * cellH;
    const image = (png: Buffer, x: number) => ({
      type: 'image',
      left: x,
      top: y,
      style: {
        image: `data:image/png;base64,${png.toString('base64')}`,
        width: tile,
        height: tile,
      },
    });
    return [
      image(digitTilePng(s.pixels, size, scale), left),
      image(
        digitTilePng(s.pixels, size, scale, { values: s.relevance, rows: grid[0], cols: grid[1] }),
        left + tile + 6,
      ),
      {
        type: 'text',
        left: left + pairWidth / 2 - 24,
        top: y + tile + 6,
        style: {
          text: `${s.label} → ${s.predicted}`,
          fontSize: 14,
          fill: s.label === s.predicted ? '#222' : '#d62728',
        },
      },
    ];
  });
  return svg(
    {
      title: {
        text: 'Where the class token looks: attention rollout (Abnar & Zuidema, 2020)',
        subtext:
          'each pair: a held-out digit, and the rollout from the class token to its patches (bright = most, dark = least); label → prediction, mistakes in red',
        left: 'center',
        textStyle: { fontSize: 15 },
      },
      graphic,
    },
    40 + perRow * cellW,
    top + rows * cellH + 10,
  );
}

/**
 * The stage's pictures: held-out accuracy curves (`accuracy.svg`), the ViT's confusion matrix
 * (`confusion.svg`), and rollout maps of two held-out digits of each class (`rollout.svg`), as
 * report figures (`writeReport` writes them into the run folder).
 */
export async function vitPictures(o: {
  vit: ViT;
  digits: Digits;
  split: { test: Int32Array };
  result: { vit: { history: History }; mlp?: { history: History }; confusion: number[][] };
  device: T.Device;
}): Promise<{ file: string; title: string; svg: string }[]> {
  const { vit, digits, split, result } = o;
  const accuracy = accuracyChartSvg({
    ViT: result.vit.history,
    ...(result.mlp ? { 'MLP baseline': result.mlp.history } : {}),
  });
  const picks: number[] = [];
  for (let c = 0; c < 10; c++)
    picks.push(
      ...Array.from(split.test)
        .filter((i) => digits.labels[i] === c)
        .slice(0, 2),
    );
  const size = digits.rows;
  const batch = digitBatch(digits, picks, o.device);
  const wasTraining = vit.training;
  vit.eval();
  const relevance = await vit.relevance(batch.x).data();
  const predicted = await T.noGrad(() => T.tidy(() => T.argmax(vit.forward(batch.x), -1))).data();
  vit.train(wasTraining);
  const cells = vit.config.patches;
  const samples = picks.map((i, k) => ({
    pixels: digits.images.subarray(i * size * size, (i + 1) * size * size),
    label: digits.labels[i]!,
    predicted: predicted[k]!,
    relevance: Float32Array.from(relevance.subarray(k * cells, (k + 1) * cells)),
  }));
  batch.x.dispose();
  batch.y.dispose();
  return [
    {
      file: 'accuracy.svg',
      title: 'held-out accuracy of the ViT and the MLP baseline',
      svg: accuracy,
    },
    {
      file: 'confusion.svg',
      title: 'confusion matrix of the ViT on the held-out digits',
      svg: confusionMatrixSvg(result.confusion),
    },
    {
      file: 'rollout.svg',
      title: 'attention rollout from the class token over held-out digits',
      svg: rolloutSvg(samples, vit.config.grid, size),
    },
  ];
}
