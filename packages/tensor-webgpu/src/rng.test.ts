import { describe, expect, it } from 'vitest';
import { manualSeed, nextSeed, normals, philox, Rng, uniforms } from './rng.js';

describe('philox', () => {
  it('matches the Random123 known-answer vector for Philox4x32-10 at counter 0, key 0', () => {
    // Random123 tests/kat_vectors: "philox4x32 10" with zero counter and key.
    expect(philox(0, 0, 0, 0)).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  });
});

describe('uniforms and normals', () => {
  it('uniforms lie in [0, 1), depend only on (seed, counter), and read on from an offset', () => {
    const u = uniforms(4096, 7);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const mean = u.reduce((a, b) => a + b, 0) / u.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(uniforms(10, 7, 8)).toEqual(u.slice(8, 18));
    expect(uniforms(4, 8)).not.toEqual(u.slice(0, 4));
    // The first four words are Philox's output at counter 0 under key (seed, 0), top 24 bits.
    expect(Array.from(uniforms(4, 0))).toEqual(
      [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8].map((w) => (w >>> 8) / 16777216),
    );
  });

  it('normals have mean 0 and variance 1, with an odd count too', () => {
    const z = normals(20001, 3);
    expect(z.length).toBe(20001);
    const mean = z.reduce((a, b) => a + b, 0) / z.length;
    const variance = z.reduce((a, b) => a + (b - mean) ** 2, 0) / z.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
  });
});

describe('manualSeed and Rng', () => {
  it('manualSeed restarts the stream of seeds and refuses a bad seed', () => {
    manualSeed(42);
    const first = [nextSeed(), nextSeed()];
    manualSeed(42);
    expect([nextSeed(), nextSeed()]).toEqual(first);
    expect(first[0]).not.toBe(first[1]);
    expect(() => manualSeed(-1)).toThrow(/manualSeed: seed must be a non-negative integer, got -1/);
    manualSeed(0x5eed);
  });

  it('Rng gives the same stream for the same seed, uniform in [0, 1)', () => {
    const a = new Rng(9);
    const b = new Rng(9);
    const xs = Array.from({ length: 2000 }, () => a.next());
    expect(Array.from({ length: 2000 }, () => b.next())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.03);
    expect(new Rng(10).next()).not.toBe(new Rng(9).next());
    expect(() => new Rng(1.5)).toThrow(/Rng: seed must be an integer, got 1.5/);
  });
});
