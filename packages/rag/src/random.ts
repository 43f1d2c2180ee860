/**
 * A seeded uniform generator in [0, 1), for HNSW's random levels: an exact copy of
 * `@tessera/tensor-webgpu`'s `Rng` (SplitMix32), kept here because `@tessera/rag` installs without
 * the tensor core. `random.test.ts` fails if the two streams ever differ. The state is exposed so
 * that a saved index resumes the same stream.
 */
export class SeededUniform {
  /** The 32-bit state: the seed, advanced once per draw. */
  state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1) (32-bit resolution). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  }
}
