import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { warmupCosine } from '@tessera/optim';
import { describe, expect, it } from 'vitest';
import { centredAverage, lossChartSvg, writeReport } from './report.js';
import { tempDir } from './test-utils/fixtures.js';

describe('report', () => {
  it('the centred average does not lag: a line stays the line, the last point is the last value', () => {
    const line = Array.from({ length: 50 }, (_, i) => 5 - 0.05 * i);
    const smooth = centredAverage(line, 4);
    for (let i = 0; i < line.length; i++) expect(smooth[i]).toBeCloseTo(line[i]!, 12);
    const noisy = [1, 3, 1, 3, 1, 3, 2];
    // Point 3 averages points 0…6 (h = 3); point 1 averages 0…2 (the window shrinks at the ends).
    expect(centredAverage(noisy, 3)).toEqual([1, 5 / 3, 9 / 5, 2, 2, 2, 2]);
  });

  it('the chart has ticked axes, raw and smoothed training loss, validation, and a learning-rate panel', () => {
    const trainLoss = Array.from({ length: 40 }, (_, i) => 6 - i * 0.05 + (i % 2) * 0.1);
    const svg = lossChartSvg(
      {
        trainLoss,
        val: [
          { step: 20, loss: 5.1 },
          { step: 40, loss: 4.2 },
        ],
      },
      { adamw: warmupCosine({ lr: 3e-3, warmup: 5, total: 40 }) },
    );
    expect(svg.startsWith('<svg')).toBe(true);
    for (const label of [
      'train',
      'train, mean of 3 steps',
      'validation',
      'lr adamw',
      'loss (nats/token)',
      'learning rate',
      'step',
    ])
      expect(svg).toContain(`>${label}<`);
    const ticks = [...svg.matchAll(/>(\d+(?:\.\d+)?)</g)].map((m) => Number(m[1]));
    expect(ticks).toEqual(expect.arrayContaining([0, 10, 20, 30, 40])); // step ticks
    expect(ticks.some((t) => t > 0 && t < 0.01)).toBe(true); // learning-rate ticks
  });

  it('writes report.json, report.md and the chart into the run folder', () => {
    const dir = tempDir();
    writeReport(dir, {
      title: 'reference-llm pretrain: micro',
      facts: [['steps', '2']],
      summary: { steps: 2 },
      history: { trainLoss: [3, 2], val: [{ step: 2, loss: 2.5 }] },
      schedules: { adamw: () => 1e-3 },
    });
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).toEqual({
      steps: 2,
      history: [{ step: 2, loss: 2.5 }],
    });
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain(
      '| steps | 2 |\n\n![loss and learning rate](loss.svg)',
    );
    expect(readFileSync(join(dir, 'loss.svg'), 'utf8')).toContain('<svg');
  });

  it("writes a stage's further pictures and lists them in report.md after the chart", () => {
    const dir = tempDir();
    writeReport(dir, {
      title: 'reference-llm vit train: MNIST',
      facts: [['steps', '2']],
      summary: {},
      history: { trainLoss: [3, 2], val: [] },
      schedules: {},
      figures: [
        { file: 'accuracy.svg', title: 'test accuracy', svg: '<svg>a</svg>' },
        { file: 'confusion.svg', title: 'confusion matrix', svg: '<svg>c</svg>' },
      ],
    });
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain(
      '(loss.svg)\n\n![test accuracy](accuracy.svg)\n\n![confusion matrix](confusion.svg)\n',
    );
    expect(readFileSync(join(dir, 'confusion.svg'), 'utf8')).toBe('<svg>c</svg>');
  });
});
