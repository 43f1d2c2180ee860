import * as T from '@tessera/tensor-webgpu';
import { gradCheck, maxRelError, smoothValues, testDevices } from '@tessera/tensor-webgpu/testing';
import { PatchEmbedding, unfoldPatches } from '@tessera/vit';
import { describe, expect, it } from 'vitest';

const { all, cpu } = await testDevices();

// Odd sizes: 2 images, 3 channels, 6×9 pixels, 3×3 patches → a 2×3 grid of 27-value patches.
const [B, C, H, W, P] = [2, 3, 6, 9, 3];
const pixels = smoothValues(B * C * H * W, 1);

/** The convolution with kernel = stride = P, summed directly: out[b, n, o]. */
function convolve(weight: ArrayLike<number>, bias: ArrayLike<number>, dModel: number): number[] {
  const gw = W / P;
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let n = 0; n < (H / P) * gw; n++)
      for (let o = 0; o < dModel; o++) {
        let s = bias[o]!;
        for (let c = 0; c < C; c++)
          for (let y = 0; y < P; y++)
            for (let x = 0; x < P; x++) {
              const pixel =
                pixels[((b * C + c) * H + Math.floor(n / gw) * P + y) * W + (n % gw) * P + x]!;
              s += weight[((o * C + c) * P + y) * P + x]! * pixel;
            }
        out.push(s);
      }
  return out;
}

describe.each(all)('patch embedding ($info.backend)', (dev) => {
  const images = () => T.tensor(pixels, { shape: [B, C, H, W], device: dev });

  it('unfolds patches in row-major grid order, each as (channel, y, x)', async () => {
    const u = unfoldPatches(images(), P);
    expect(u.shape).toEqual([B, 6, C * P * P]);
    const got = await u.data();
    // Patch (1, 2) of image 1, channel 2, pixel (y 1, x 0).
    const [b, gy, gx, c, y, x] = [1, 1, 2, 2, 1, 0];
    const at = ((b * 6 + gy * 3 + gx) * C + c) * P * P + y * P + x;
    expect(got[at]).toBe(Math.fround(pixels[((b * C + c) * H + gy * P + y) * W + gx * P + x]!));
  });

  it('is the strided convolution, as one matmul', async () => {
    const embed = new PatchEmbedding({ channels: C, patch: P, dModel: 5, seed: 2, device: dev });
    const want = convolve(await embed.weight.data(), await embed.bias!.data(), 5);
    const got = embed.forward(images());
    expect(got.shape).toEqual([B, 6, 5]);
    expect(maxRelError(await got.data(), want)).toBeLessThan(1e-5);
  });

  it('has the gradients of the CPU reference', async () => {
    const grads = async (d: T.Device) => {
      const embed = new PatchEmbedding({ channels: C, patch: P, dModel: 4, seed: 3, device: d });
      const x = T.tensor(pixels, { shape: [B, C, H, W], device: d, requiresGrad: true });
      const w = T.tensor(smoothValues(B * 6 * 4, 4), { shape: [B, 6, 4], device: d });
      T.sum(T.mul(embed.forward(x), w)).backward();
      return Promise.all([x.grad!.data(), embed.weight.grad!.data(), embed.bias!.grad!.data()]);
    };
    const [mine, reference] = [await grads(dev), await grads(cpu)];
    for (let i = 0; i < 3; i++) expect(maxRelError(mine[i]!, reference[i]!)).toBeLessThan(1e-5);
  });
});

describe('patch embedding gradients and errors', () => {
  it('matches finite differences in the images, weight and bias', async () => {
    const [b, c, h, w, p, d] = [1, 2, 4, 6, 2, 3];
    const f = (x: T.Tensor, weight: T.Tensor, bias: T.Tensor) =>
      T.add(T.matmul(unfoldPatches(x, p), T.transpose(weight)), bias);
    const err = await gradCheck(
      cpu,
      f,
      [smoothValues(b * c * h * w, 5), smoothValues(d * c * p * p, 6), smoothValues(d, 7)],
      [[b, c, h, w], [d, c * p * p], [d]],
    );
    expect(err).toBeLessThan(2e-3);
  });

  it('names bad images and options', () => {
    const x = T.zeros([1, 1, 28, 28], { device: cpu });
    expect(() => unfoldPatches(x, 5)).toThrow(
      'unfoldPatches: image size 28×28 is not a multiple of the patch size 5',
    );
    expect(() => unfoldPatches(T.zeros([28, 28], { device: cpu }), 4)).toThrow(
      'unfoldPatches: images must be [batch, channels, height, width], got [28, 28]',
    );
    const embed = new PatchEmbedding({ channels: 3, patch: 4, dModel: 8, device: cpu });
    expect(() => embed.forward(x)).toThrow(/images have 1 channels, expected 3/);
    expect(() => new PatchEmbedding({ channels: 1, patch: 0, dModel: 8 })).toThrow(
      'PatchEmbedding: patch must be a positive integer, got 0',
    );
    expect(
      () => new PatchEmbedding({ channels: 1, patch: 4, dModel: 8, stride: 2 } as never),
    ).toThrow(/PatchEmbedding: unknown option "stride"/);
  });
});
