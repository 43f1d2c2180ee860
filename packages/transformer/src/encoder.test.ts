import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM, Encoder } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { ids2d, small } from './test-utils/fixtures.js';

const { all, cpu } = await testDevices();

describe.each(all)('Encoder ($info.backend)', (dev) => {
  it('is bidirectional: a later token changes earlier outputs (the decoder is causal)', async () => {
    const enc = new Encoder(small, dev);
    const a = (await enc.forward(ids2d([[1, 2, 3, 4]], dev)).toArray()) as number[][][];
    const b = (await enc.forward(ids2d([[1, 2, 3, 9]], dev)).toArray()) as number[][][];
    expect(maxRelError(a[0]![0]!, b[0]![0]!)).toBeGreaterThan(1e-4);
    const lm = new DecoderLM(small, dev);
    const c1 = (await lm.forward(ids2d([[1, 2, 3, 4]], dev)).toArray()) as number[][][];
    const c2 = (await lm.forward(ids2d([[1, 2, 3, 9]], dev)).toArray()) as number[][][];
    expect(c1[0]![0]).toEqual(c2[0]![0]); // causal: position 0 cannot see position 3
  });

  it('padding keys masked out do not change the real tokens', async () => {
    const enc = new Encoder(small, dev);
    const mask = T.tensor([[1, 1, 1, 0, 0]], { device: dev });
    const a = await enc.forward(ids2d([[4, 5, 6, 0, 0]], dev), { mask }).data();
    const b = await enc.forward(ids2d([[4, 5, 6, 17, 33]], dev), { mask }).data();
    expect(maxRelError(a.slice(0, 3 * 32), b.slice(0, 3 * 32))).toBeLessThan(1e-5);
  });
});

describe('Encoder options', () => {
  it('names unknown options', () => {
    const enc = new Encoder(small, cpu);
    expect(() => enc.forward(ids2d([[1]], cpu), { padding: 1 } as never)).toThrow(
      /Encoder\.forward: unknown option "padding"/,
    );
  });
});
