import { type Embedder, embedTexts } from '@tessera/rag';
import { describe, expect, it } from 'vitest';

describe('embedTexts', () => {
  it("returns the embedder's vectors after checking them", async () => {
    const embedder: Embedder = {
      embed: (texts) => texts.map((t) => Float32Array.from([t.length, 1])),
    };
    expect(await embedTexts(embedder, ['ab', 'c'], 2)).toEqual([
      Float32Array.from([2, 1]),
      Float32Array.from([1, 1]),
    ]);
  });

  it('names the embedding that has the wrong count, length, type or value', async () => {
    const fixed = (out: unknown[]) => ({ embed: async () => out as Float32Array[] });
    await expect(embedTexts(fixed([new Float32Array(2)]), ['a', 'b'])).rejects.toThrow(
      /returned 1 embeddings for 2 texts/,
    );
    await expect(
      embedTexts(fixed([new Float32Array(2), new Float32Array(3)]), ['a', 'b']),
    ).rejects.toThrow(/embedding 1 has 3 values, expected the dimension 2/);
    await expect(embedTexts(fixed([[1, 2]]), ['a'])).rejects.toThrow(
      /embedding 0 is not a Float32Array/,
    );
    await expect(embedTexts(fixed([Float32Array.from([1, Number.NaN])]), ['a'])).rejects.toThrow(
      /embedding 0 holds a non-finite value/,
    );
    await expect(embedTexts(fixed([new Float32Array(2)]), ['a'], 4)).rejects.toThrow(
      /expected the dimension 4/,
    );
  });
});
