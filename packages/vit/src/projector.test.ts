import { AdamW } from '@tessera/optim';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { VisionProjector } from '@tessera/vit';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

describe.each(all)('VisionProjector ($info.backend)', (dev) => {
  it('maps features into the text width with a GELU MLP, as the CPU does', async () => {
    const run = async (d: T.Device) => {
      const p = new VisionProjector({ visionDim: 6, textDim: 10, hidden: 7, seed: 1, device: d });
      const features = T.randn([2, 5, 6], { device: d, seed: 2, requiresGrad: true });
      const y = p.forward(features);
      T.sum(T.mul(y, y)).backward();
      return {
        y,
        grads: await Promise.all([features, ...p.parameters()].map((t) => t.grad!.data())),
      };
    };
    const [mine, reference] = [await run(dev), await run(cpu)];
    expect(mine.y.shape).toEqual([2, 5, 10]);
    expect(maxRelError(await mine.y.data(), await reference.y.data())).toBeLessThan(1e-5);
    for (const [i, g] of mine.grads.entries())
      expect(maxRelError(g, reference.grads[i]!)).toBeLessThan(1e-4);
  });
});

describe('VisionProjector', () => {
  it('learns to map one space into another', async () => {
    const p = new VisionProjector({ visionDim: 4, textDim: 3, hidden: 16, device: cpu });
    const x = T.randn([32, 4], { device: cpu, seed: 3 });
    const target = T.tanh(T.matmul(x, T.randn([4, 3], { device: cpu, seed: 4 })));
    const optimizer = new AdamW(p.parameters(), { lr: 1e-2 });
    const losses: number[] = [];
    for (let step = 0; step < 200; step++) {
      const l = T.tidy(() => {
        optimizer.zeroGrad();
        const l = T.mean(T.square(T.sub(p.forward(x), target)));
        l.backward();
        optimizer.step();
        return l;
      });
      losses.push(await l.item());
      l.dispose();
    }
    expect(losses.at(-1)!).toBeLessThan(0.1 * losses[0]!);
  });

  it('names its parameters as Hugging Face LLaVA and rejects bad options', () => {
    const p = new VisionProjector({ visionDim: 4, textDim: 3, device: cpu });
    expect(Object.keys(p.stateDict())).toEqual([
      'linear_1.weight',
      'linear_1.bias',
      'linear_2.weight',
      'linear_2.bias',
    ]);
    expect(p.linear_1.weight.shape).toEqual([3, 4]); // hidden defaults to textDim
    expect(() => new VisionProjector({ visionDim: 0, textDim: 3 })).toThrow(
      'VisionProjector: visionDim must be a positive integer, got 0',
    );
    expect(() => new VisionProjector({ visionDim: 4, textDim: 3, depth: 2 } as never)).toThrow(
      /VisionProjector: unknown option "depth"/,
    );
  });
});
