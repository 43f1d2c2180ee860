import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { get_encoding } from 'tiktoken';
import { describe, expect, it } from 'vitest';
import { fromHuggingFaceJson } from './hf.js';
import { hfExpected, hfVariant } from './hf-fixtures.js';
import { mixedCorpus, ranksOf } from './test-corpus.js';
import { fromTiktoken } from './tiktoken-file.js';
import { Tokenizer } from './tokenizer.js';

const corpus = mixedCorpus();

describe.each([
  ['cl100k_base', cl100k],
  ['o200k_base', o200k],
] as const)('%s: ids equal js-tiktoken', (name, data) => {
  const ours = fromTiktoken(ranksOf(data), name);
  const theirs = new Tiktoken(data);

  it('on a mixed corpus (Shakespeare, code, JSON, CJK, emoji, whitespace runs, random Unicode)', () => {
    for (const text of corpus) expect(ours.encode(text)).toEqual(theirs.encode(text));
  });

  it('with special tokens allowed', () => {
    const text = 'a<|endoftext|>b <|endoftext|>';
    expect(ours.encode(text, { allowedSpecial: 'all' })).toEqual(theirs.encode(text, 'all'));
  });

  it('decode(encode(x)) === x for random valid strings', () => {
    for (const text of corpus) expect(ours.decode(ours.encode(text))).toBe(text);
  });
});

describe('against Rust tiktoken: long runs, Unicode classes', () => {
  const ours = fromTiktoken(ranksOf(cl100k), 'cl100k_base');

  it('equal the WASM tiktoken package (Rust) on 10,000-character runs', () => {
    const wasm = get_encoding('cl100k_base');
    try {
      for (const unit of ['a', ' ', '0', 'ab', '\n', 'é', '😀', 'the ', '!?'])
        expect(ours.encode(unit.repeat(10_000))).toEqual([...wasm.encode(unit.repeat(10_000))]);
    } finally {
      wasm.free();
    }
  });

  it('equal the WASM tiktoken package where JavaScript regexes disagree with Rust (\\s, \\d)', () => {
    const wasm = get_encoding('cl100k_base');
    try {
      for (const text of ['x \ufeffy', 'a\u0085 b', ' \u0085\u0085x', '\ufeff\n\ufeff', '٣٤٥٦ 12'])
        expect([text, ours.encode(text)]).toEqual([text, [...wasm.encode(text)]]);
    } finally {
      wasm.free();
    }
  });

  it("'a' × 100,000 gives cl100k's 12,500 tokens", () => {
    const ids = ours.encode('a'.repeat(100_000));
    expect(ids.length).toBe(12_500);
    expect(ours.decode(ids)).toBe('a'.repeat(100_000));
    expect(ours.countTokens('a'.repeat(100_000))).toBe(12_500);
  });
});

describe('special tokens (tiktoken policy)', () => {
  const tok = fromTiktoken(ranksOf(cl100k), 'cl100k_base');

  it('special-token text is an error by default, naming the token and the options', () => {
    expect(() => tok.encode('hi <|endoftext|>')).toThrow(
      /contains the special token "<\|endoftext\|>", which is not allowed.*allowedSpecial.*disallowedSpecial: \[\]/,
    );
  });

  it('allowed specials map to their ids; disallowedSpecial: [] encodes them as text', () => {
    expect(tok.encode('<|endoftext|>', { allowedSpecial: ['<|endoftext|>'] })).toEqual([100257]);
    const plain = tok.encode('<|endoftext|>', { disallowedSpecial: [] });
    expect(plain.length).toBeGreaterThan(1);
    expect(tok.decode(plain)).toBe('<|endoftext|>');
    expect(tok.specialId('<|fim_prefix|>')).toBe(100258);
    expect(() => tok.specialId('<|nope|>')).toThrow(/no special token "<\|nope\|>"/);
  });

  it('unknown ids are an error in decode', () => {
    expect(() => tok.decode([5, 999999])).toThrow(/unknown token id 999999/);
  });

  it('added tokens that are not special are matched without being allowed (Hugging Face)', () => {
    const variant = hfExpected.encodings.find((e) => e.name.startsWith('non-special'))!;
    const tok = fromHuggingFaceJson(hfVariant(variant.patch)) as Tokenizer;
    const { text, ids } = variant.cases[0]!;
    expect(tok.encode(text)).toEqual(ids);
    expect(Object.keys(tok.specialTokens)).not.toContain('hello');
    expect(tok.decode(ids)).toBe(text);
  });
});

describe('decode equals Hugging Face tokenizers (fixtures/make-hf-fixtures.ts)', () => {
  it.each(hfExpected.encodings.map((v) => [v.name, v] as const))('%s', (_, v) => {
    const tok = fromHuggingFaceJson(hfVariant(v.patch)) as Tokenizer;
    for (const c of [...v.cases, ...v.decodes]) {
      expect([c.ids, tok.decode(c.ids)]).toEqual([c.ids, c.decoded]);
      expect([c.ids, tok.decode(c.ids, { skipSpecialTokens: true })]).toEqual([
        c.ids,
        c.decodedSkippingSpecial,
      ]);
    }
  });

  it("an added token decodes as Hugging Face's ByteLevel decoder maps its text: 'café' is c a f 0xE9", () => {
    const v = hfExpected.encodings.find((e) => e.name.startsWith('decoding added tokens'))!;
    const tok = fromHuggingFaceJson(hfVariant(v.patch)) as Tokenizer;
    const cafe = v.addedIds['café']!;
    expect([...tok.tokenBytes(cafe)]).toEqual([0x63, 0x61, 0x66, 0xe9]);
    expect(tok.decode([cafe])).toBe(v.cases.find((c) => c.text === 'café')!.decoded);
    const stream = tok.streamDecoder();
    expect(stream.push(cafe) + stream.end()).toBe(tok.decode([cafe]));
  });

  it('tiktoken-style special tokens decode to their UTF-8 text and are skipped on request', () => {
    const tok = fromTiktoken(ranksOf(cl100k), 'cl100k_base');
    const ids = tok.encode('a<|endoftext|>b', { allowedSpecial: 'all' });
    expect(tok.decode(ids)).toBe(new Tiktoken(cl100k).decode(ids));
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('ab');
    expect(() => tok.decode(ids, { skipSpecial: true } as never)).toThrow(
      'decode: unknown option "skipSpecial" (known options: skipSpecialTokens)',
    );
  });
});

describe('streaming, counting, offsets, batches, options', () => {
  const tok = fromTiktoken(ranksOf(cl100k), 'cl100k_base');

  it('countTokens and encodeBatch agree with encode', () => {
    for (const text of corpus.slice(0, 10))
      expect(tok.countTokens(text)).toBe(tok.encode(text).length);
    expect(tok.encodeBatch(['a b', 'c'])).toEqual([tok.encode('a b'), tok.encode('c')]);
  });

  it('offsets give each token its span of the text', () => {
    for (const text of ['Hello world, how are you?', '日本語 😀 x', corpus[1]!]) {
      const spans = tok.encodeWithOffsets(text);
      expect(spans.map((s) => s.id)).toEqual(tok.encode(text));
      let last = 0;
      for (const s of spans) {
        expect(s.start).toBeGreaterThanOrEqual(last === 0 ? 0 : last - 2);
        expect(s.end).toBeGreaterThan(s.start);
        const piece = tok.decode([s.id]);
        if (!piece.includes('\ufffd')) expect(text.slice(s.start, s.end)).toBe(piece);
        last = s.end;
      }
      expect(spans.at(-1)!.end).toBe(text.length);
    }
  });

  it('offsets index the input when a prefix space was added, and cover added tokens', () => {
    const variant = hfExpected.encodings.find((e) => e.name.startsWith('ByteLevel add_prefix'))!;
    const prefixed = fromHuggingFaceJson(hfVariant(variant.patch)) as Tokenizer;
    const text = 'Hello<mask>world';
    const spans = prefixed.encodeWithOffsets(text, { allowedSpecial: 'all' });
    expect(spans.map((s) => s.id)).toEqual(variant.cases[1]!.ids);
    const maskSpan = spans.find((s) => s.id === prefixed.specialId('<mask>'))!;
    expect(text.slice(maskSpan.start, maskSpan.end)).toBe('<mask>');
    for (const s of spans) {
      const piece = prefixed.decode([s.id]);
      if (piece.trim() && s.id !== maskSpan.id)
        expect(text.slice(s.start, s.end)).toBe(piece.trim());
    }
  });

  it('options objects refuse unknown keys, naming the method', () => {
    expect(() => tok.encode('x', { allowSpecial: 'all' } as never)).toThrow(
      'encode: unknown option "allowSpecial" (known options: allowedSpecial, disallowedSpecial, addSpecialTokens)',
    );
    expect(() => tok.encodeWithOffsets('x', { add: true } as never)).toThrow(
      /encodeWithOffsets: unknown option "add"/,
    );
    expect(() => tok.countTokens('x', { add: true } as never)).toThrow(
      /countTokens: unknown option/,
    );
    expect(() => tok.encodeBatch(['x'], { add: true } as never)).toThrow(
      /encodeBatch: unknown option/,
    );
    expect(() => new Tokenizer({ ...tok.config, patern: 'x' } as never)).toThrow(
      /Tokenizer: unknown option "patern"/,
    );
    expect(() => new Tokenizer({ encoder: new Map() })).toThrow(
      'Tokenizer: give exactly one of config.pattern and config.preTokenizer',
    );
  });
});
