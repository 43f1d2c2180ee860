import { describe, expect, it } from 'vitest';
import {
  CL100K_PATTERN,
  checkBacktracking,
  compilePattern,
  GPT2_PATTERN,
  O200K_PATTERN,
  translatePattern,
} from './pattern.js';

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

  it('\\s and \\d are Unicode classes, as in Rust regex and Oniguruma', () => {
    const re = (p: string) => new RegExp(`^${translatePattern(p)}$`, 'u');
    expect(re('\\s').test('\u0085')).toBe(true);
    expect(re('\\s').test('\ufeff')).toBe(false);
    expect(re('[^\\s]').test('\ufeff')).toBe(true);
    expect(re('\\d+').test('٣٤')).toBe(true);
    expect(re('\\\\s').test('\\s')).toBe(true); // an escaped backslash stays one
  });

  it('inline case-insensitive groups match both cases, and only inside the group', () => {
    const re = new RegExp(`^${translatePattern("'(?i:s|ll)x")}$`, 'u');
    for (const s of ["'sx", "'Sx", "'LLx", "'lLx"]) expect(re.test(s)).toBe(true);
    expect(re.test("'sX")).toBe(false);
  });
});

describe('checkBacktracking', () => {
  it('passes the patterns of real tokenizers', () => {
    const llama3 =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    for (const p of [GPT2_PATTERN, CL100K_PATTERN, O200K_PATTERN, llama3, '(ab{2})+', '(a+)++'])
      expect(() => checkBacktracking(p)).not.toThrow();
  });

  it('refuses a group of varying length repeated without bound', () => {
    for (const p of ['(a+)+$', '(?:\\s*x*)*', '(a{1,3})+', 'x|((ab)+c){2,}', '(?<n>a*)*'])
      expect(() => checkBacktracking(p)).toThrow(/can backtrack exponentially; refused/);
    expect(() => compilePattern('(a+)+$')).toThrow(
      'pattern: "(a+)+$" repeats the group "(a+)" without bound (+) and the group holds a quantifier of varying count',
    );
  });
});
