import { describe, expect, it } from 'vitest';
import { type AddedToken, AddedTokenMatcher, AddedVocabulary } from './added-tokens.js';
import { fromHuggingFaceJson } from './hf.js';
import { bertExpected, bertVariant, hfExpected, hfVariant } from './hf-fixtures.js';
import type { Tokenizer } from './tokenizer.js';
import type { WordPieceTokenizer } from './wordpiece.js';

const variants = hfExpected.encodings.filter((e) => !e.name.startsWith('Split'));
const variant = (name: string) => variants.find((v) => v.name === name)!;

describe('added tokens encode as Hugging Face tokenizers does (fixtures/make-hf-fixtures.ts)', () => {
  it.each(variants.map((v) => [v.name, v] as const))('BPE: %s', (_, v) => {
    const tok = fromHuggingFaceJson(hfVariant(v.patch)) as Tokenizer;
    for (const { text, ids } of v.cases)
      expect([text, tok.encode(text, { allowedSpecial: 'all' })]).toEqual([text, ids]);
  });

  it.each(
    bertExpected.encodings
      .filter((v) => v.name.startsWith('added'))
      .map((v) => [v.name, v] as const),
  )('WordPiece, the same matcher: %s', (_, v) => {
    const tok = fromHuggingFaceJson(bertVariant(v.patch)) as WordPieceTokenizer;
    for (const { text, ids } of v.cases) expect([text, tok.encode(text)]).toEqual([text, ids]);
  });

  it('the issue case: lstrip absorbs the space before <mask>', () => {
    const v = variant('<mask> lstrip');
    const tok = fromHuggingFaceJson(hfVariant(v.patch)) as Tokenizer;
    const ids = tok.encode('Hello <mask> world', { allowedSpecial: 'all' });
    expect(ids).toEqual(v.cases[0]!.ids);
    expect(ids).not.toContain(tok.encode(' ')[0]);
  });

  it('an lstrip tab inside whitespace <mask> (rstrip) took is dropped, not encoded twice', () => {
    const v = variant('overlap: <mask> rstrip, tab lstrip');
    const tok = fromHuggingFaceJson(hfVariant(v.patch)) as Tokenizer;
    expect(tok.encode('<mask>\t', { allowedSpecial: 'all' })).toEqual([v.addedIds['<mask>']]);
  });

  it('where Hugging Face panics (an lstrip token inside taken whitespace, with more after it), an error says so', () => {
    const v = variant('overlap: <mask> rstrip, tab lstrip');
    const tok = fromHuggingFaceJson(hfVariant(v.patch)) as Tokenizer;
    expect(() => tok.encode('<mask> \t x', { allowedSpecial: 'all' })).toThrow(
      /added token "\\t" \(lstrip\) lies inside the whitespace an earlier rstrip token took.*AddedVocabulary bad split/,
    );
  });
});

describe('AddedTokenMatcher', () => {
  const token = (content: string, more: Partial<AddedToken> = {}): AddedToken => ({
    id: content.length,
    content,
    special: true,
    singleWord: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    ...more,
  });
  function spans(tokens: AddedToken[], text: string, skip = (_: AddedToken) => false): string[] {
    const out: string[] = [];
    new AddedTokenMatcher(tokens).split(
      text,
      skip,
      (s, e) => out.push(text.slice(s, e)),
      (t, s, e) => out.push(`[${t.content}:${JSON.stringify(text.slice(s, e))}]`),
    );
    return out;
  }

  it('a skipped token stays plain text', () => {
    expect(spans([token('<a>')], 'x<a>y', () => true)).toEqual(['x<a>y']);
  });

  it('lstrip stops at whitespace an earlier match took', () => {
    expect(
      spans([token('<a>', { rstrip: true }), token('<b>', { lstrip: true })], '<a>  <b>'),
    ).toEqual(['[<a>:"<a>  "]', '[<b>:"<b>"]']);
  });
});

describe('AddedVocabulary', () => {
  it('finds normalized tokens in the normalized text, the others in the raw text first', () => {
    const tokens: AddedToken[] = [
      {
        id: 1,
        content: 'AB',
        special: false,
        singleWord: false,
        lstrip: false,
        rstrip: false,
        normalized: true,
      },
      {
        id: 2,
        content: 'Cd',
        special: true,
        singleWord: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
      },
    ];
    const out: string[] = [];
    new AddedVocabulary(tokens, (t) => t.toLowerCase()).split(
      'xAbCdaB',
      () => false,
      (part, start) => out.push(`${part}@${start}`),
      (t, s, e) => out.push(`${t.id}:${s}-${e}`),
    );
    expect(out).toEqual(['x@0', '1:1-3', '2:3-5', '1:5-7']);
  });
});
