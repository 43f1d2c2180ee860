import { readFileSync } from 'node:fs';
import { tokenize13a, tokenizeIntl, tokenizeZh } from '@tessera/eval';
import { describe, expect, it } from 'vitest';
import { type BleuTokenizer, bleuTokens } from './bleu-tokenizers.js';

// fixtures/sacrebleu.json, made by fixtures/make-sacrebleu-fixture.py with sacreBLEU 2.6.0 itself:
// lines holding each whitespace and format character (tab, U+0085, U+00A0, U+2028, U+3000,
// U+FEFF, U+200B and more) in each position, with each tokenizer's output and the tokens BLEU
// counts (rstrip, tokenizer, str.split()).
interface Line {
  line: string;
  bleu: Record<BleuTokenizer, string[]>;
  '13a': string;
  intl: string;
  zh: string;
}
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/sacrebleu.json', import.meta.url), 'utf8'),
) as { sacrebleu: string; tokens: Line[] };
const KINDS: BleuTokenizer[] = ['none', '13a', 'intl', 'char', 'zh'];

describe(`BLEU tokenizers (sacreBLEU ${fixture.sacrebleu})`, () => {
  it('give the tokens sacreBLEU counts, for every tokenizer and whitespace character', () => {
    expect(fixture.tokens.length).toBeGreaterThan(250);
    for (const { line, bleu } of fixture.tokens)
      for (const kind of KINDS)
        expect([kind, line, bleuTokens(kind, line)]).toEqual([kind, line, bleu[kind]]);
  });

  it("return sacreBLEU's tokenizer output strings", () => {
    for (const c of fixture.tokens) {
      expect(tokenize13a(c.line)).toBe(c['13a']);
      expect(tokenizeIntl(c.line)).toBe(c.intl);
      expect(tokenizeZh(c.line)).toBe(c.zh);
    }
  });

  // 13a's punctuation class skips the apostrophe (0x27), so contractions stay whole.
  it('13a splits punctuation but keeps numbers with separators; intl splits by Unicode class', () => {
    expect(tokenize13a("It wasn't 3.5-4, (ok)!")).toBe("It wasn't 3.5 - 4 , ( ok ) !");
    expect(tokenizeIntl('Grüße, 3.5€ «bien»!')).toBe('Grüße , 3.5 € « bien » !');
  });

  // U+0085 is Python whitespace, U+FEFF is not (JavaScript's \s has it the other way round);
  // BLEU strips trailing whitespace first, so intl keeps "1990." whole before a trailing U+2028.
  it('separate at Python whitespace only, after stripping the end of the line', () => {
    expect(bleuTokens('none', 'a\x85b\ufeffc\u200bd')).toEqual(['a', 'b\ufeffc\u200bd']);
    expect(bleuTokens('char', 'a\x1cb\ufeff')).toEqual(['a', 'b', '\ufeff']);
    expect(bleuTokens('intl', 'In 1990.\u2028')).toEqual(['In', '1990.']);
    expect(bleuTokens('intl', 'In 1990.\u200b')).toEqual(['In', '1990', '.', '\u200b']);
  });

  // sacreBLEU's zh ranges, as Python reads them: U+2001-U+2A6D count as Chinese (so the em dash
  // and curly quotes are split off), U+2000 and ideographs beyond the BMP do not.
  it('zh splits Chinese characters as sacreBLEU effectively defines them', () => {
    expect(tokenizeZh('你好，世界。')).toBe('你 好 ， 世 界 。');
    expect(tokenizeZh('a—“b” 𠀀𠀁')).toBe('a — “ b ” 𠀀𠀁');
    expect(bleuTokens('zh', 'the cat\u200bsat\u2060x\ufeffy')).toEqual([
      'the',
      'cat',
      '\u200b',
      'sat',
      '\u2060',
      'x\ufeffy',
    ]);
  });

  it('rejects an unknown tokenizer', () => {
    expect(() => bleuTokens('spm' as BleuTokenizer, 'a')).toThrow(
      /tokenize must be 13a, intl, zh, char or none, got "spm"/,
    );
  });
});
