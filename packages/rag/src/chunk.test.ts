import { readFileSync } from 'node:fs';
import { type Chunk, chunkDocuments, chunkText, type TokenizerLike } from '@tessera/rag';
import { describe, expect, it } from 'vitest';

/**
 * Every chunk is its exact span of the source, trimmed, within the size (`measure`: characters
 * by default); none is lost.
 */
function checkTiling(
  source: string,
  chunks: Chunk[],
  size: number,
  overlapping: boolean,
  measure: (text: string) => number = (t) => t.length,
) {
  let covered = 0;
  chunks.forEach((c, i) => {
    expect(c.text).toBe(source.slice(c.start, c.end));
    expect(c.text).toBe(c.text.trim());
    expect(c.text.length).toBeGreaterThan(0);
    expect(measure(c.text)).toBeLessThanOrEqual(size);
    expect(c.index).toBe(i);
    expect(c.id).toBe(`${c.sourceId}#${i}`);
    // Nothing but whitespace between the end of what is covered and the chunk's start.
    if (c.start > covered) expect(source.slice(covered, c.start).trim()).toBe('');
    if (!overlapping) expect(c.start).toBeGreaterThanOrEqual(covered);
    covered = Math.max(covered, c.end);
  });
  expect(source.slice(covered).trim()).toBe('');
}

const sentence = (n: number) => `Sentence number ${n} says a thing.`; // 30 or 31 characters

/** A toy tokenizer: a token per word and per punctuation mark; spaces are free. */
const words: TokenizerLike = {
  encode: (text) => (text.match(/\w+|[^\w\s]/g) ?? []).map((_, i) => i),
};
/** A toy tokenizer: a token per two UTF-16 code units, spaces included. */
const pairs: TokenizerLike = {
  encode: (text) => Array.from({ length: Math.ceil(text.length / 2) }, (_, i) => i),
};
const tokens = (tokenizer: TokenizerLike) => (text: string) => tokenizer.encode(text).length;

describe('chunkText', () => {
  it('packs whole paragraphs while they fit', () => {
    const p = ['a'.repeat(40), 'b'.repeat(40), 'c'.repeat(40)];
    const text = p.join('\n\n');
    const chunks = chunkText('doc', text, { chunkSize: 100 });
    expect(chunks.map((c) => c.text)).toEqual([`${p[0]}\n\n${p[1]}`, p[2]]);
    expect(chunks[1]!.start).toBe(84);
  });

  it('splits a long paragraph at sentences, then words, then inside a word', () => {
    const para = [1, 2, 3, 4].map(sentence).join(' ');
    const text = `Short intro.\n\n${para}\n\n${'x'.repeat(45)}`;
    const chunks = chunkText('doc', text, { chunkSize: 64 });
    checkTiling(text, chunks, 64, false);
    expect(chunks.map((c) => c.text)).toEqual([
      'Short intro.',
      `${sentence(1)} ${sentence(2)}`,
      `${sentence(3)} ${sentence(4)}`,
      'x'.repeat(45),
    ]);
    const words = chunkText('w', 'alpha beta gamma delta epsilon', { chunkSize: 11 });
    expect(words.map((c) => c.text)).toEqual(['alpha beta', 'gamma delta', 'epsilon']);
    const long = chunkText('w', 'y'.repeat(50), { chunkSize: 20 });
    expect(long.map((c) => [c.start, c.end])).toEqual([
      [0, 20],
      [20, 40],
      [40, 50],
    ]);
  });

  it('repeats whole trailing sentences as overlap', () => {
    const text = [1, 2, 3, 4, 5].map(sentence).join(' ');
    const chunks = chunkText('doc', text, { chunkSize: 70, chunkOverlap: 35 });
    checkTiling(text, chunks, 70, true);
    expect(chunks.map((c) => c.text)).toEqual([
      `${sentence(1)} ${sentence(2)}`,
      `${sentence(2)} ${sentence(3)}`,
      `${sentence(3)} ${sentence(4)}`,
      `${sentence(4)} ${sentence(5)}`,
    ]);
    // Inside a word, the overlap is the longest tail that fits.
    const hard = chunkText('doc', 'z'.repeat(30), { chunkSize: 10, chunkOverlap: 4 });
    expect(hard.map((c) => [c.start, c.end])).toEqual([
      [0, 10],
      [6, 16],
      [12, 22],
      [18, 28],
      [24, 30],
    ]);
  });

  it('never splits a surrogate pair and keeps exact offsets on real text', () => {
    const emoji = '😀'.repeat(9);
    const parts = chunkText('e', emoji, { chunkSize: 5 });
    for (const c of parts) expect([...c.text].every((ch) => ch === '😀')).toBe(true);
    expect(parts.map((c) => c.text).join('')).toBe(emoji);
    const play = readFileSync(new URL('../fixtures/bm25.json', import.meta.url), 'utf8').slice(
      0,
      20_000,
    );
    for (const [size, overlap] of [
      [200, 0],
      [300, 60],
      [57, 13],
    ] as const)
      checkTiling(
        play,
        chunkText('play', play, { chunkSize: size, chunkOverlap: overlap }),
        size,
        overlap > 0,
      );
  });

  it('counts sizes in tokens with a tokenizer, not characters', () => {
    // A sentence is 7 tokens (six words and the full stop) but 30 or 31 characters.
    const text = [1, 2, 3, 4, 5].map(sentence).join(' ');
    const chunks = chunkText('doc', text, { chunkSize: 14, tokenizer: words });
    checkTiling(text, chunks, 14, false, tokens(words));
    expect(chunks.map((c) => c.text)).toEqual([
      `${sentence(1)} ${sentence(2)}`,
      `${sentence(3)} ${sentence(4)}`,
      sentence(5),
    ]);
    // A bigger size packs more; in characters, 14 would not hold one sentence.
    const three = chunkText('doc', text, { chunkSize: 21, tokenizer: words });
    expect(three.map((c) => c.text)).toEqual([
      [1, 2, 3].map(sentence).join(' '),
      `${sentence(4)} ${sentence(5)}`,
    ]);
    // The default is 256 tokens, not 1000 characters: 300 one-letter words (600 characters).
    const many = Array.from({ length: 300 }, () => 'w').join(' ');
    expect(chunkText('doc', many).map((c) => c.text.length)).toEqual([599]);
    const byToken = chunkText('doc', many, { tokenizer: words });
    expect(byToken.map((c) => words.encode(c.text).length)).toEqual([256, 44]);
    expect(byToken.map((c) => [c.start, c.end])).toEqual([
      [0, 511],
      [512, 599],
    ]);
  });

  it('measures the overlap in tokens, repeating whole sentences', () => {
    const text = [1, 2, 3, 4, 5].map(sentence).join(' ');
    const chunks = chunkText('doc', text, { chunkSize: 14, chunkOverlap: 7, tokenizer: words });
    checkTiling(text, chunks, 14, true, tokens(words));
    expect(chunks.map((c) => c.text)).toEqual([
      `${sentence(1)} ${sentence(2)}`,
      `${sentence(2)} ${sentence(3)}`,
      `${sentence(3)} ${sentence(4)}`,
      `${sentence(4)} ${sentence(5)}`,
    ]);
    // Six tokens of overlap cannot hold a 7-token sentence: nothing is repeated.
    const none = chunkText('doc', text, { chunkSize: 14, chunkOverlap: 6, tokenizer: words });
    expect(none.map((c) => c.text)).toEqual(
      chunks
        .slice(0, 1)
        .map((c) => c.text)
        .concat([`${sentence(3)} ${sentence(4)}`, sentence(5)]),
    );
    // Inside a word, the longest prefix of chunkSize tokens, and the longest tail of chunkOverlap.
    const hard = chunkText('doc', 'z'.repeat(30), {
      chunkSize: 5,
      chunkOverlap: 2,
      tokenizer: pairs,
    });
    expect(hard.map((c) => [c.start, c.end])).toEqual([
      [0, 10],
      [6, 16],
      [12, 22],
      [18, 28],
      [24, 30],
    ]);
  });

  it('keeps every chunk within chunkSize tokens and its span exact on real text', () => {
    const play = readFileSync(new URL('../fixtures/bm25.json', import.meta.url), 'utf8').slice(
      0,
      20_000,
    );
    for (const tokenizer of [words, pairs])
      for (const [size, overlap] of [
        [64, 0],
        [96, 24],
        [9, 4],
      ] as const) {
        const chunks = chunkText('play', play, {
          chunkSize: size,
          chunkOverlap: overlap,
          tokenizer,
        });
        checkTiling(play, chunks, size, overlap > 0, tokens(tokenizer));
        // Packed up to the size: a chunk and the next piece would not fit together.
        const largest = Math.max(...chunks.map((c) => tokenizer.encode(c.text).length));
        expect(largest).toBeGreaterThan(size / 2);
      }
    // chunkDocuments passes the tokenizer to each document.
    const docs = chunkDocuments(
      [
        { id: 'a', text: `${sentence(1)} ${sentence(2)}` },
        { id: 'b', text: sentence(3) },
      ],
      { chunkSize: 7, tokenizer: words },
    );
    expect(docs.map((c) => [c.id, c.text])).toEqual([
      ['a#0', sentence(1)],
      ['a#1', sentence(2)],
      ['b#0', sentence(3)],
    ]);
    expect(() => chunkText('doc', 'text', { tokenizer: {} as never })).toThrow(
      'chunkText: tokenizer must have an encode(text) method',
    );
  });

  it('rejects empty texts, repeated ids and bad sizes', () => {
    expect(() => chunkText('doc', ' \n ')).toThrow(/documents\[0\] \(id "doc"\) has an empty text/);
    expect(() => chunkText('', 'text')).toThrow(/id must be a non-empty string/);
    expect(() => chunkText('doc', 'text', { chunkSize: 10, chunkOverlap: 10 })).toThrow(
      /chunkOverlap must be below chunkSize \(10\), got 10/,
    );
    expect(() => chunkText('doc', 'text', { chunkSize: 0 })).toThrow(
      /chunkSize must be an integer >= 1, got 0/,
    );
    expect(() => chunkText('doc', 'text', { size: 10 } as never)).toThrow(/unknown option "size"/);
    expect(() =>
      chunkDocuments([
        { id: 'a', text: 'one' },
        { id: 'a', text: 'two' },
      ]),
    ).toThrow(/chunkDocuments: duplicate id "a" in documents\[1\]/);
    const both = chunkDocuments([
      { id: 'a', text: 'one' },
      { id: 'b', text: 'two' },
    ]);
    expect(both.map((c) => [c.id, c.sourceId, c.text])).toEqual([
      ['a#0', 'a', 'one'],
      ['b#0', 'b', 'two'],
    ]);
  });
});
