import { augmentPrompt, chunkText, type TokenizerLike } from '@tessera/rag';
import {
  type TokenizerLike as OwnerTokenizerLike,
  type Tokenizer,
  trainBpe,
} from '@tessera/tokenizer';
import { describe, expect, expectTypeOf, it } from 'vitest';

describe('TokenizerLike', () => {
  // A type-level test: `npm run typecheck` fails if rag's copy drifts from the owner's shape.
  it("is exactly the encode part of @tessera/tokenizer's TokenizerLike", () => {
    expectTypeOf<TokenizerLike>().toEqualTypeOf<Pick<OwnerTokenizerLike, 'encode'>>();
    expectTypeOf<Tokenizer>().toMatchTypeOf<TokenizerLike>();
  });

  it('a real Tokenizer measures chunk sizes and prompt budgets in tokens', () => {
    const tokenizer = trainBpe(['the cat sat on the mat. '.repeat(50)], { vocabSize: 300 });
    const text = 'the cat sat on the mat. '.repeat(20);
    const chunks = chunkText('doc', text, { chunkSize: 12, chunkOverlap: 0, tokenizer });
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(tokenizer.encode(c.text).length).toBeLessThanOrEqual(12);
    const base = tokenizer.encode(augmentPrompt('where?', []).prompt).length;
    const { prompt, citations } = augmentPrompt('where?', chunks, {
      tokenizer,
      maxTokens: base + 30,
    });
    expect(tokenizer.encode(prompt).length).toBeLessThanOrEqual(base + 30);
    // Special-token text in a document: counted as ordinary text through the documented wrapper.
    const special = trainBpe(['some text '.repeat(20)], {
      vocabSize: 260,
      specialTokens: ['<|endoftext|>'],
    });
    const doc = 'some text <|endoftext|> more text';
    expect(() => chunkText('d', doc, { chunkSize: 4, tokenizer: special })).toThrow();
    const ordinary = { encode: (text: string) => special.encode(text, { disallowedSpecial: [] }) };
    const pieces = chunkText('d', doc, { chunkSize: 4, tokenizer: ordinary });
    for (const c of pieces) expect(ordinary.encode(c.text).length).toBeLessThanOrEqual(4);
    expect(
      pieces
        .map((c) => c.text)
        .join('')
        .replaceAll(' ', ''),
    ).toBe(doc.replaceAll(' ', ''));
    expect(citations.length).toBeGreaterThan(0);
    expect(citations.length).toBeLessThan(chunks.length);
  });
});
