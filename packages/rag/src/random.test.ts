import { Rng } from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { SeededUniform } from './random.js';

describe('SeededUniform', () => {
  it("is the same stream as the tensor core's Rng (the one seeded PRNG)", () => {
    for (const seed of [0, 1, 42, 2 ** 31 + 5]) {
      const ours = new SeededUniform(seed);
      const owner = new Rng(seed);
      for (let i = 0; i < 1000; i++) expect(ours.next()).toBe(owner.next());
    }
  });
});
