import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CL100K_PATTERN, compilePattern, translatePattern } from './pattern.js';
import {
  huggingFacePreTokenizer,
  type SplitBehavior,
  tiktokenPreTokenizer,
} from './pre-tokenizer.js';

/** What Hugging Face (Oniguruma) and tiktoken (fancy-regex) match: `fixtures/make-pattern-fixtures.ts`. */
const expected: {
  oniguruma: {
    pattern: string;
    text: string;
    isolated?: string[];
    removed?: string[];
    error?: string;
  }[];
  fancyRegex: { pattern: string; text: string; matched?: string; error?: string }[];
} = JSON.parse(readFileSync(new URL('../fixtures/pattern-expected.json', import.meta.url), 'utf8'));

function split(pattern: string, behavior: SplitBehavior, text: string): string[] {
  const pieces: string[] = [];
  huggingFacePreTokenizer([{ type: 'Split', pattern, literal: false, behavior, invert: false }])(
    text,
    0,
    (piece) => pieces.push(piece),
  );
  return pieces;
}

/** Patterns the reference engine runs and Tessera refuses, with why. */
const refusedForOniguruma: Record<string, RegExp> = {
  '(?i:ss)': /a case-insensitive "ss", which Oniguruma also matches to one character/,
  // Ruby syntax reads x{1,2}+ as (?:x{1,2})+, an ambiguous group repeated without bound.
  'x{1,2}+': /can backtrack exponentially/,
  'x{1,2}+x': /can backtrack exponentially/,
};

describe('split patterns match what their engine matches', () => {
  it.each(expected.oniguruma.map((c) => [c.pattern, JSON.stringify(c.text), c] as const))(
    'Oniguruma (Hugging Face Split) %s on %s',
    (_, __, c) => {
      const refused = refusedForOniguruma[c.pattern];
      if (refused) expect(() => compilePattern(c.pattern, 'oniguruma')).toThrow(refused);
      else if (c.error) expect(() => compilePattern(c.pattern, 'oniguruma')).toThrow();
      else {
        expect(split(c.pattern, 'Isolated', c.text)).toEqual(c.isolated);
        expect(split(c.pattern, 'Removed', c.text)).toEqual(c.removed);
      }
    },
  );

  it.each(expected.fancyRegex.map((c) => [c.pattern, JSON.stringify(c.text), c] as const))(
    'fancy-regex (tiktoken) %s on %s',
    (_, __, c) => {
      if (c.error) expect(() => compilePattern(c.pattern, 'fancy-regex')).toThrow();
      else {
        const pieces: string[] = [];
        tiktokenPreTokenizer(c.pattern)(c.text, 0, (piece) => pieces.push(piece));
        expect(pieces.join('')).toBe(c.matched);
      }
    },
  );

  it('`.` is every character but \\n, in both engines (the review case: Removed keeps only the newlines)', () => {
    expect(split('.', 'Removed', '\n\r\n')).toEqual(['\n', '\n']);
    for (const engine of ['oniguruma', 'fancy-regex'] as const)
      expect(translatePattern('.', engine)).toBe('[^\\u{a}]');
  });

  it('\\w is Unicode in both engines, with Join_Control in fancy-regex only', () => {
    const word = (engine: 'oniguruma' | 'fancy-regex') =>
      new RegExp(`^${translatePattern('\\w+', engine)}$`, 'u');
    expect(word('oniguruma').test('héllo')).toBe(true);
    expect(word('oniguruma').test('a\u200db')).toBe(false);
    expect(word('fancy-regex').test('a\u200db')).toBe(true);
  });
});

describe('pattern translation', () => {
  it('compiles tiktoken patterns that JavaScript rejects as written', () => {
    expect(() => new RegExp(CL100K_PATTERN, 'u')).toThrow();
    expect(compilePattern(CL100K_PATTERN, 'fancy-regex').flags).toContain('u');
  });

  it('possessive quantifiers do not give back characters, exactly like atomic groups', () => {
    const re = (p: string) => new RegExp(`^${translatePattern(p, 'fancy-regex')}$`, 'u');
    expect(re('a?+a').test('a')).toBe(false); // a?+ keeps the only 'a'
    expect(re('a?+a').test('aa')).toBe(true);
    expect(new RegExp(`^${translatePattern('[ab]++b', 'fancy-regex')}`, 'u').test('abab')).toBe(
      false,
    );
    expect(re('x{1,3}+y').test('xxy')).toBe(true);
    expect(re('(?>a+)a').test('aa')).toBe(false);
    expect(re('x{1,2}+x').test('xx')).toBe(false);
    // Oniguruma's Ruby syntax: X{n,m}+ is (?:X{n,m})+, which gives back.
    expect(new RegExp(`^${translatePattern('x{1,2}+x', 'oniguruma')}$`, 'u').test('xx')).toBe(true);
  });

  it('\\s and \\d are Unicode classes, as in Rust regex and Oniguruma', () => {
    const re = (p: string) => new RegExp(`^${translatePattern(p, 'oniguruma')}$`, 'u');
    expect(re('\\s').test('\u0085')).toBe(true);
    expect(re('\\s').test('\ufeff')).toBe(false);
    expect(re('[^\\s]').test('\ufeff')).toBe(true);
    expect(re('\\d+').test('٣٤')).toBe(true);
    expect(re('\\\\s').test('\\s')).toBe(true); // an escaped backslash stays one
  });

  it('case-insensitive groups match every case variant, and only inside the group', () => {
    const re = new RegExp(`^${translatePattern("'(?i:s|ll)x", 'fancy-regex')}$`, 'u');
    for (const s of ["'sx", "'Sx", "'ſx", "'LLx", "'lLx"]) expect(re.test(s)).toBe(true);
    expect(re.test("'sX")).toBe(false);
  });

  it('refuses, naming it, what it does not translate', () => {
    const refused: [string, RegExp][] = [
      ['(a)\\1', /backreferences and octal escapes \(\\1\) are not supported/],
      ['[[:alpha:]]', /POSIX classes and set operations are not supported/],
      ['[a-z&&[^aeiou]]', /POSIX classes and set operations are not supported/],
      ['(?m).', /unsupported flags \(\?m\)/],
      ['\\p{Nope}', /unknown Unicode property \\p\{Nope\}/],
      ['\\R', /unsupported escape \\R/],
      ['(?i:ß)', /a case-insensitive "ß", which Oniguruma also matches to "ss"/],
      ['(?i:\\p{Lu})', /\\p\{Lu\} in a case-insensitive group is not supported/],
      ['a**', /a quantifier on a quantifier/],
      ['(a', /unbalanced "\("/],
    ];
    for (const [pattern, message] of refused)
      expect(() => compilePattern(pattern, 'oniguruma')).toThrow(message);
    expect(() => compilePattern('.\\Z', 'fancy-regex')).toThrow(/unsupported escape \\Z/);
  });
});
