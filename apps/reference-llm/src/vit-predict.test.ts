import * as T from '@tessera/tensor-webgpu';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { ViT } from '@tessera/vit';
import { describe, expect, it } from 'vitest';
import { mnistDigit } from './digit-image.js';
import { digitBatch, readMnist } from './mnist.js';
import { formatPrediction, predictDigit } from './vit-predict.js';
import { MNIST_VIT } from './vit-train.js';

const cpu = await T.createDevice({ backend: 'cpu' });
const digits = readMnist();

describe('predictDigit', () => {
  it("is the softmax of the model's logits for the normalised digit", async () => {
    const vit = new ViT({ ...MNIST_VIT, dModel: 16, layers: 1, heads: 2, initStd: 0.5 }, cpu);
    vit.eval();
    const p = await predictDigit(vit, mnistDigit(digits, 42));
    const want = await T.softmax(vit.forward(digitBatch(digits, [42], cpu).x), -1).data();
    expect(maxRelError(p, want)).toBeLessThan(1e-6);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const wrong = { ...mnistDigit(digits, 0), rows: 14, cols: 14, source: 'x.png' };
    await expect(predictDigit(vit, wrong)).rejects.toThrow(
      'x.png: 14×14 pixels, the model reads 28×28',
    );
  });

  it('prints the most likely class, then each with its share', () => {
    const lines = formatPrediction([0.05, 0.9, 0.05, 0, 0, 0, 0, 0, 0, 0]);
    expect(lines[0]).toBe('prediction: 1 (90.0%)');
    expect(lines[2]).toBe(`  1   90.0%  ${'█'.repeat(27)}`);
    expect(lines).toHaveLength(11);
  });
});
