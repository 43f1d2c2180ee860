import { resolveViTConfig, trunkConfig } from '@tessera/vit';
import { describe, expect, it } from 'vitest';

const mnist = {
  imageSize: 28,
  patchSize: 7,
  channels: 1,
  classes: 10,
  dModel: 64,
  layers: 4,
  heads: 4,
};

describe('resolveViTConfig', () => {
  it('fills in the defaults and the patch grid', () => {
    const c = resolveViTConfig(mnist);
    expect(c).toMatchObject({
      imageSize: [28, 28],
      grid: [4, 4],
      patches: 16,
      ffnHidden: 256,
      positions: 'learned',
      pool: 'cls',
      ropeTheta: 100,
      dropout: 0,
      dropPath: 0,
      normEps: 1e-6,
      initStd: 0.02,
    });
    expect(resolveViTConfig({ ...mnist, imageSize: [28, 14] })).toMatchObject({
      grid: [4, 2],
      patches: 8,
    });
    expect(resolveViTConfig({ ...mnist, channels: undefined }).channels).toBe(3);
  });

  it('builds a bidirectional pre-LayerNorm GELU trunk with one position per token', () => {
    expect(trunkConfig(resolveViTConfig({ ...mnist, dropPath: 0.1 }))).toMatchObject({
      dModel: 64,
      ffn: 'gelu',
      ffnHidden: 256,
      norm: 'layer',
      maxSeqLen: 17,
      dropPath: 0.1,
    });
  });

  it('names unknown keys and bad values', () => {
    expect(() => resolveViTConfig({ ...mnist, patch: 7 } as never)).toThrow(
      /ViT config: unknown option "patch"/,
    );
    expect(() => resolveViTConfig({ ...mnist, patchSize: 5 })).toThrow(
      'ViT config: patchSize 5 must divide the image size 28×28',
    );
    expect(() => resolveViTConfig({ ...mnist, heads: 0 })).toThrow(
      'ViT config: heads must be a positive integer, got 0',
    );
    expect(() => resolveViTConfig({ ...mnist, imageSize: [28, 0] })).toThrow(
      'ViT config: imageSize[1] must be a positive integer, got 0',
    );
    expect(() => resolveViTConfig({ ...mnist, positions: 'sinusoidal' as never })).toThrow(
      `ViT config: positions must be 'learned' or 'rope2d', got "sinusoidal"`,
    );
    expect(() => resolveViTConfig({ ...mnist, pool: 'max' as never })).toThrow(
      `ViT config: pool must be 'cls' or 'mean', got "max"`,
    );
    expect(() => resolveViTConfig({ ...mnist, dModel: 48, heads: 8, positions: 'rope2d' })).toThrow(
      /rope2d needs a head width \(dModel \/ heads = 6\) that is a multiple of 4/,
    );
  });
});
