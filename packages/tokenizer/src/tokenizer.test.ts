import { readFileSync } from 'node:fs';
import {
  applyChatTemplate,
  CL100K_PATTERN,
  compilePattern,
  formatTiktokenRanks,
  fromHuggingFaceJson,
  fromTiktoken,
  parseTiktokenRanks,
  Tokenizer,
  toHuggingFaceJson,
  trainBpe,
  translatePattern,
  WordPieceTokenizer,
} from '@tessera/tokenizer';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import r50k from 'js-tiktoken/ranks/r50k_base';
import { describe, expect, it } from 'vitest';
import { mixedCorpus, ranksOf } from './test-corpus.js';

const corpus = mixedCorpus();
const shakespeare = readFileSync(
  new URL('../../../apps/reference-llm/data/tinyshakespeare.txt', import.meta.url),
  'utf8',
);

describe('pattern translation', () => {
  it('compiles tiktoken patterns that JavaScript rejects as written', () => {
    expect(() => new RegExp(CL100K_PATTERN, 'u')).toThrow();
    expect(compilePattern(CL100K_PATTERN).flags).toContain('u');
  });

  it('possessive quantifiers do not give back characters, exactly like atomic groups', () => {
    const possessive = new RegExp(`^${translatePattern('a?+a')}$`, 'u');
    expect(possessive.test('a')).toBe(false); // a?+ keeps the only 'a'
    expect(possessive.test('aa')).toBe(true);
    expect(new RegExp(`^${translatePattern('[ab]++b')}`, 'u').test('abab')).toBe(false);
    expect(new RegExp(`^${translatePattern('x{1,3}+y')}$`, 'u').test('xxy')).toBe(true);
  });

  it('inline case-insensitive groups match both cases, and only inside the group', () => {
    const re = new RegExp(`^${translatePattern("'(?i:s|ll)x")}$`, 'u');
    for (const s of ["'sx", "'Sx", "'LLx", "'lLx"]) expect(re.test(s)).toBe(true);
    expect(re.test("'sX")).toBe(false);
  });
});

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
});

describe('streaming, counting, offsets, batches', () => {
  const tok = fromTiktoken(ranksOf(cl100k), 'cl100k_base');

  it('the stream decoder never emits U+FFFD for characters split across tokens', () => {
    const text = '😀👍🏽 日本語 ok 👨‍👩‍👧‍👦';
    const stream = tok.streamDecoder();
    let out = '';
    for (const id of tok.encode(text)) {
      const piece = stream.push(id);
      expect(piece).not.toContain('\ufffd');
      out += piece;
    }
    expect(out + stream.end()).toBe(text);
    // Some token really is a partial character, or this test would prove nothing.
    expect(tok.encode(text).some((id) => tok.decode([id]).includes('\ufffd'))).toBe(true);
  });

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
});

describe('tiktoken files', () => {
  it('rank files round-trip, and a malformed line names its number', () => {
    const ranks = new Map([
      ['a', 0],
      ['b', 1],
      ['ab', 2],
      ['\u00ff\u0000', 3],
    ]);
    expect(parseTiktokenRanks(formatTiktokenRanks(ranks))).toEqual(ranks);
    expect(() => parseTiktokenRanks('YQ== 0\nbad\n')).toThrow(/line 2 is not "<base64> <rank>"/);
    expect(() => fromTiktoken(ranks, 'nope' as never)).toThrow(/unknown encoding "nope"/);
  });
});

describe('Hugging Face tokenizer.json', () => {
  /**
   * A GPT-2 tokenizer.json written from r50k ranks the way Hugging Face's TikToken converter does
   * (independently of toHuggingFaceJson), checked against js-tiktoken's GPT-2 ids.
   */
  function gpt2TokenizerJson(): string {
    const ranks = ranksOf(r50k);
    const bs: number[] = [];
    for (let b = 33; b <= 126; b++) bs.push(b);
    for (let b = 161; b <= 172; b++) bs.push(b);
    for (let b = 174; b <= 255; b++) bs.push(b);
    const map: string[] = [];
    let n = 0;
    for (let b = 0; b < 256; b++) map[b] = String.fromCharCode(bs.includes(b) ? b : 256 + n++);
    const visible = (s: string) => Array.from(s, (c) => map[c.charCodeAt(0)]).join('');
    const vocab: Record<string, number> = {};
    for (const [bytes, id] of ranks) vocab[visible(bytes)] = id;
    vocab['<|endoftext|>'] = 50256;
    const merges: [number, string][] = [];
    for (const [bytes, rank] of ranks) {
      for (let i = 1; i < bytes.length; i++) {
        const a = ranks.get(bytes.slice(0, i));
        const b = ranks.get(bytes.slice(i));
        if (a !== undefined && b !== undefined && a < rank && b < rank)
          merges.push([rank * 1e6 + a, `${visible(bytes.slice(0, i))} ${visible(bytes.slice(i))}`]);
      }
    }
    merges.sort((x, y) => x[0] - y[0]);
    return JSON.stringify({
      version: '1.0',
      added_tokens: [{ id: 50256, content: '<|endoftext|>', special: true }],
      normalizer: null,
      pre_tokenizer: {
        type: 'ByteLevel',
        add_prefix_space: false,
        trim_offsets: true,
        use_regex: true,
      },
      post_processor: { type: 'ByteLevel', trim_offsets: true },
      decoder: { type: 'ByteLevel' },
      model: { type: 'BPE', vocab, merges: merges.map(([, m]) => m) },
    });
  }

  it('a GPT-2 tokenizer.json encodes like js-tiktoken r50k', () => {
    const tok = fromHuggingFaceJson(gpt2TokenizerJson()) as Tokenizer;
    const theirs = new Tiktoken(r50k);
    for (const text of corpus.slice(0, 25)) expect(tok.encode(text)).toEqual(theirs.encode(text));
  });

  it('save → load reproduces the encoding (tiktoken ranks and trained vocabularies), with a template', () => {
    const trained = trainBpe([shakespeare.slice(0, 100_000)], {
      vocabSize: 600,
      specialTokens: ['<|bos|>', '<|eos|>'],
    });
    for (const tok of [fromTiktoken(ranksOf(cl100k), 'cl100k_base'), trained]) {
      const again = fromHuggingFaceJson(toHuggingFaceJson(tok)) as Tokenizer;
      for (const text of corpus.slice(0, 12)) expect(again.encode(text)).toEqual(tok.encode(text));
    }
    const withTemplate = new Tokenizer({
      ...trained.config,
      template: { before: ['<|bos|>'], after: ['<|eos|>'] },
    });
    const json = JSON.parse(toHuggingFaceJson(withTemplate));
    expect(json.post_processor.type).toBe('TemplateProcessing');
    const loaded = fromHuggingFaceJson(JSON.stringify(json)) as Tokenizer;
    const ids = loaded.encode('hello', { addSpecialTokens: true });
    expect(ids[0]).toBe(trained.specialId('<|bos|>'));
    expect(ids.at(-1)).toBe(trained.specialId('<|eos|>'));
  });

  it('unsupported components and malformed files are errors naming what is wrong', () => {
    const base = JSON.parse(gpt2TokenizerJson());
    expect(() => fromHuggingFaceJson('{not json')).toThrow(/tokenizer\.json: not valid JSON/);
    expect(() =>
      fromHuggingFaceJson(JSON.stringify({ ...base, model: { ...base.model, type: 'Unigram' } })),
    ).toThrow(/unsupported model type "Unigram"/);
    expect(() =>
      fromHuggingFaceJson(JSON.stringify({ ...base, normalizer: { type: 'NFKC' } })),
    ).toThrow(/unsupported normalizer type "NFKC"/);
    expect(() =>
      fromHuggingFaceJson(JSON.stringify({ ...base, pre_tokenizer: { type: 'Metaspace' } })),
    ).toThrow(/unsupported pre_tokenizer type "Metaspace"/);
    expect(() =>
      fromHuggingFaceJson(JSON.stringify({ ...base, decoder: { type: 'Fuse' } })),
    ).toThrow(/unsupported decoder type "Fuse"/);
  });

  it('BERT WordPiece matches an independent Python implementation', () => {
    const tok = fromHuggingFaceJson(
      readFileSync(new URL('../fixtures/bert-tokenizer.json', import.meta.url), 'utf8'),
    ) as WordPieceTokenizer;
    expect(tok).toBeInstanceOf(WordPieceTokenizer);
    const expected = JSON.parse(
      readFileSync(new URL('../fixtures/bert-expected.json', import.meta.url), 'utf8'),
    );
    for (const e of expected) expect(tok.encode(e.text, { addSpecialTokens: true })).toEqual(e.ids);
    expect(tok.decode(tok.encode('tokenization is fun'))).toBe('tokenization is fun');
  });
});

describe('training', () => {
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
});

describe('chat templates', () => {
  it('ChatML and Llama-3 formats, with a generation prompt', () => {
    const msgs = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ] as const;
    expect(applyChatTemplate(msgs, 'chatml', { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(applyChatTemplate(msgs, 'llama3')).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>',
    );
    expect(() => applyChatTemplate(msgs, 'vicuna' as never)).toThrow(
      /template must be 'chatml' or 'llama3'/,
    );
  });
});
