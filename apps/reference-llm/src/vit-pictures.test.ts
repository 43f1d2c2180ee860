import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { accuracyChartSvg, confusionMatrixSvg, digitTilePng, rolloutSvg } from './vit-pictures.js';

const digit = Uint8Array.from({ length: 16 }, (_, i) => (i === 5 ? 255 : 0)); // 4×4, one ink pixel

describe('vit pictures', () => {
  it('a digit tile is the digit scaled up; with relevance, the patches coloured by it', () => {
    const plain = PNG.sync.read(digitTilePng(digit, 4, 3));
    expect([plain.width, plain.height]).toEqual([12, 12]);
    const px = (p: PNG, x: number, y: number) => [
      ...p.data.subarray(4 * (y * p.width + x), 4 * (y * p.width + x) + 3),
    ];
    expect(px(plain, 3, 3)).toEqual([255, 255, 255]); // pixel (1, 1) scaled by 3
    expect(px(plain, 0, 0)).toEqual([0, 0, 0]);
    // A 2×2 grid: the top-right patch most relevant, the bottom-left least.
    const heat = PNG.sync.read(
      digitTilePng(digit, 4, 3, { values: [0.2, 0.5, 0.1, 0.3], rows: 2, cols: 2 }),
    );
    expect(px(heat, 11, 0)).toEqual([255, 250, 180]); // the top of the ramp
    expect(px(heat, 0, 11)).toEqual([20, 0, 40]); // the bottom
  });

  it('the confusion matrix writes every count; the accuracy chart names each model', () => {
    const counts = Array.from({ length: 10 }, (_, t) =>
      Array.from({ length: 10 }, (_, p) => (t === p ? 190 + t : t + p === 9 ? 7 : 0)),
    );
    const svg = confusionMatrixSvg(counts);
    for (const label of ['>199<', '>190<', '>7<', '>predicted<', '>true<'])
      expect(svg).toContain(label);
    const chart = accuracyChartSvg({
      ViT: { trainLoss: [], val: [{ step: 100, loss: 1, accuracy: 0.9 }] },
      'MLP baseline': { trainLoss: [], val: [{ step: 100, loss: 1, accuracy: 0.8 }] },
    });
    for (const label of ['>ViT<', '>MLP baseline<', '>accuracy (%)<', '>step<'])
      expect(chart).toContain(label);
  });

  it('the rollout picture shows each digit beside its map, captioned label → prediction', () => {
    const sample = (label: number, predicted: number) => ({
      pixels: digit,
      label,
      predicted,
      relevance: Float32Array.from([1, 2, 3, 4]),
    });
    const svg = rolloutSvg([sample(3, 3), sample(5, 6)], [2, 2], 4);
    expect(svg.match(/<image /g)).toHaveLength(4);
    expect(svg).toContain('>3 → 3<');
    expect(svg).toMatch(/fill="#d62728"[^>]*>5 → 6</);
  });
});
