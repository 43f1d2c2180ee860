import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { centredAverage } from '../report.js';

echarts.use([LineChart, GridComponent, LegendComponent, TitleComponent, SVGRenderer]);

/** One line of a panel: per-step values (smoothed and drawn raw) or points at intervals (validation). */
export interface Curve {
  name: string;
  /** [step, value] pairs. */
  points: [number, number][];
  /** Per-step values: drawn faint, with a centred moving average on top. Default false (points with markers). */
  perStep?: boolean;
}

/** A panel of the chart: its curves over steps on one y axis. */
export interface Panel {
  title: string;
  curves: Curve[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/**
 * A tuning stage's curves as one SVG (ECharts, server-side rendering): panels stacked over a
 * shared step axis — loss, accuracy, reward, KL, whatever the stage tracks. Per-step curves are
 * drawn raw (faint) with a centred moving average, which does not lag.
 */
export function curvesSvg(title: string, panels: readonly Panel[]): string {
  const height = 170;
  const top = 60;
  const gap = 60;
  const lastStep = Math.max(
    1,
    ...panels.flatMap((p) => p.curves.flatMap((c) => c.points.map(([s]) => s))),
  );
  const series: Record<string, unknown>[] = [];
  const legends: Record<string, unknown>[] = [];
  panels.forEach((panel, i) => {
    const names: string[] = [];
    panel.curves.forEach((curve, k) => {
      const color = COLORS[k % COLORS.length];
      const base = { type: 'line', xAxisIndex: i, yAxisIndex: i, color };
      if (curve.perStep) {
        const h = Math.max(1, Math.floor(curve.points.length / 40));
        const smooth = centredAverage(
          curve.points.map(([, v]) => v),
          h,
        );
        series.push({
          ...base,
          name: `${curve.name} `,
          showSymbol: false,
          lineStyle: { width: 1, opacity: 0.35 },
          data: curve.points,
        });
        series.push({
          ...base,
          name: curve.name,
          showSymbol: false,
          lineStyle: { width: 2 },
          data: curve.points.map(([s], j) => [s, smooth[j]]),
        });
      } else {
        series.push({
          ...base,
          name: curve.name,
          symbol: 'circle',
          symbolSize: 6,
          lineStyle: { width: 1.5 },
          data: curve.points,
        });
      }
      names.push(curve.name);
    });
    legends.push({
      top: top + i * (height + gap) - 26,
      left: 80,
      itemWidth: 18,
      itemGap: 20,
      data: names,
    });
  });
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: 860,
    height: top + panels.length * (height + gap),
  });
  chart.setOption({
    animation: false,
    backgroundColor: '#fff',
    textStyle: { fontFamily: 'sans-serif' },
    title: { text: title, left: 'center', textStyle: { fontSize: 15 } },
    legend: legends,
    grid: panels.map((_, i) => ({ left: 80, right: 30, top: top + i * (height + gap), height })),
    xAxis: panels.map((_, i) => ({
      gridIndex: i,
      type: 'value',
      min: 0,
      max: lastStep,
      name: i === panels.length - 1 ? 'step' : '',
      nameLocation: 'middle',
      nameGap: 28,
      splitLine: { lineStyle: { color: '#eee' } },
    })),
    yAxis: panels.map((p, i) => ({
      gridIndex: i,
      type: 'value',
      scale: true,
      name: p.title,
      nameLocation: 'middle',
      nameGap: 50,
      splitLine: { lineStyle: { color: '#eee' } },
    })),
    series,
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return `${svg}\n`;
}
