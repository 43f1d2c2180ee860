import { describe, expect, it } from 'vitest';
import { type AddedToken, AddedTokenMatcher } from './added-tokens.js';
import { fromHuggingFaceJson } from './hf.js';
import { hfExpected, hfVariant } from './hf-fixtures.js';
import type { Tokenizer } from './tokenizer.js';

const variants = hfExpected.encodings.filter((e) => !e.name.startsWith('Split'));

describe('added tokens encode as Hugging Face tokenizers does (fixtures/make-hf-fixtures.ts)', () => {
  it.each(variants.map((v) => [v.name, v] as const))('%s', (_, variant) => {
    const tok = fromHuggingFaceJson(hfVariant(variant.patch)) as Tokenizer;
    for (const { text, ids } of variant.cases)
      expect([text, tok.encode(text, { allowedSpecial: 'all' })]).toEqual([text, ids]);
  });

  it('the issue case: lstrip absorbs the space before <mask>', () => {
    const variant = variants.find((v) => v.name === '<mask> lstrip')!;
    const tok = fromHuggingFaceJson(hfVariant(variant.patch)) as Tokenizer;
    const ids = tok.encode('Hello <mask> world', { allowedSpecial: 'all' });
    expect(ids).toEqual(variant.cases[0]!.ids);
    expect(ids).not.toContain(tok.encode(' ')[0]);
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
