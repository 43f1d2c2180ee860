/**
 * A seeded uniform generator in [0, 1), for resampling and few-shot sampling: an exact copy of
 * `@tessera/tensor-webgpu`'s `Rng` (SplitMix32), kept here because `@tessera/eval` installs with no
 * dependencies. `random.test.ts` fails if the two streams ever differ.
 */
export function seededUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}
