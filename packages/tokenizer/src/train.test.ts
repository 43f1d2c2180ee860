import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mixedCorpus } from './test-corpus.js';
import { trainBpe } from './train.js';

const shakespeare = readFileSync(
  new URL('../../../apps/reference-llm/data/tinyshakespeare.txt', import.meta.url),
  'utf8',
);

describe('trainBpe', () => {
  it('learns a 4k vocabulary on Shakespeare that round-trips and compresses', () => {
    const progress: number[] = [];
    const tok = trainBpe([shakespeare], {
      vocabSize: 4096,
      specialTokens: ['<|endoftext|>'],
      onProgress: (p) => progress.push(p.merges),
    });
    expect(tok.vocabSize).toBe(4096);
    expect(tok.specialId('<|endoftext|>')).toBe(4095);
    const sample = shakespeare.slice(500_000, 520_000);
    const ids = tok.encode(sample);
    expect(tok.decode(ids)).toBe(sample);
    expect(sample.length / ids.length).toBeGreaterThan(3); // > 3 characters per token
    expect(progress.at(-1)).toBe(4095 - 256);
    for (const text of mixedCorpus().slice(1, 12)) expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('is deterministic, and minFrequency stops early', () => {
    const a = trainBpe(['aaabdaaabac aaabdaaabac'], { vocabSize: 270 });
    const b = trainBpe(['aaabdaaabac aaabdaaabac'], { vocabSize: 270 });
    expect([...a.ranks]).toEqual([...b.ranks]);
    const few = trainBpe(['abc abd'], { vocabSize: 1000, minFrequency: 5 });
    expect(few.vocabSize).toBe(256);
    expect(() => trainBpe(['x'], { vocabSize: 100 })).toThrow(
      /vocabSize must be an integer >= 256/,
    );
  });

  it('refuses unknown options', () => {
    expect(() => trainBpe(['x'], { vocabSize: 300, minFrequncy: 1 } as never)).toThrow(
      /trainBpe: unknown option "minFrequncy" \(known options: vocabSize, /,
    );
  });
});
