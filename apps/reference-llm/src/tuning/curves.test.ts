import { describe, expect, it } from 'vitest';
import { curvesSvg } from './curves.js';

describe('curvesSvg', () => {
  it('draws each panel’s curves over the steps, per-step curves with their moving average', () => {
    const svg = curvesSvg('reference-llm ppo: tiny', [
      {
        title: 'reward',
        curves: [
          {
            name: 'rollout score',
            points: [
              [1, 0.1],
              [2, 0.3],
              [3, 0.2],
            ],
            perStep: true,
          },
        ],
      },
      {
        title: 'KL to reference (nats)',
        curves: [
          {
            name: 'held-out',
            points: [
              [0, 0],
              [3, 1.5],
            ],
          },
        ],
      },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    for (const text of [
      'reference-llm ppo: tiny',
      'reward',
      'KL to reference (nats)',
      'rollout score',
      'held-out',
      'step',
    ])
      expect(svg).toContain(text);
    // Two panels: two plot grids, each with its own axes.
    expect(svg.match(/<path d="M/g)!.length).toBeGreaterThan(4);
  });
});
