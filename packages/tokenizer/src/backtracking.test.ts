import { describe, expect, it } from 'vitest';
import { checkBacktracking, MAX_LOOPS, MAX_PATHS } from './backtracking.js';
import { CL100K_PATTERN, compilePattern, GPT2_PATTERN, O200K_PATTERN } from './pattern.js';

/** Split patterns of released tokenizers (their tokenizer.json or tiktoken files). */
const released = {
  llama3:
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  qwen2:
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  deepseekV3:
    '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+',
  bloom: ' ?[^(\\s|[.,!?…。，、।۔،])]+',
  gpt2: GPT2_PATTERN,
  cl100k: CL100K_PATTERN,
  o200k: O200K_PATTERN,
};

const refuse = (pattern: string, message: RegExp | string) =>
  expect(() => checkBacktracking(pattern, 'oniguruma')).toThrow(message);

describe('checkBacktracking', () => {
  it.each(Object.entries(released))('passes %s', (_, pattern) => {
    for (const engine of ['oniguruma', 'fancy-regex'] as const)
      expect(() => checkBacktracking(pattern, engine)).not.toThrow();
  });

  it('refuses a group of varying length repeated without bound (exponential)', () => {
    for (const p of ['(a+)+$', '(?:\\s*x*)*', '(a{1,3})+', 'x|((ab)+c){2,}', '(?<n>a*)*'])
      refuse(p, /which can backtrack exponentially/);
    expect(() => compilePattern('(a+)+$', 'oniguruma')).toThrow(
      'pattern "(a+)+$": "(a+)+" repeats without bound a group that can match one text in more than one way',
    );
  });

  it('refuses alternatives that may begin alike under an unbounded repetition (the review case (a|a)*$)', () => {
    for (const p of [
      '(a|a)*$',
      '(a|ab)+',
      '(?:\\w|\\d)*',
      '(?:x|[a-z])*',
      '(?:\\p{L}|\\p{N})+',
      '(?:|a)*',
    ])
      refuse(p, /repeats without bound a group that can match one text in more than one way/);
    // Alternatives that cannot begin alike are one path.
    for (const p of ['(?:ab|cd)*', '(?:[ab]|c)*', '(?:\\r|\\n)+', '(?:a|\\d)*'])
      expect(() => checkBacktracking(p, 'oniguruma')).not.toThrow();
  });

  it(`refuses more than ${MAX_LOOPS} unbounded repetitions in a row, a bounded repetition counting as its copies (the review case (.*a){12}$)`, () => {
    refuse(
      '(.*a){12}$',
      'pattern "(.*a){12}$": a match passes through 12 unbounded repetitions in a row ("(.*a){12}"',
    );
    refuse('.*.*.*x', /passes through 3 unbounded repetitions in a row \("\.\*", "\.\*", "\.\*"/);
    refuse('(?:\\w+\\s){3}', /passes through 3 unbounded repetitions/);
    // Two in a row are what real patterns need (\s*[\r\n]+): not refused, documented.
    expect(() => checkBacktracking('.*.*x', 'oniguruma')).not.toThrow();
  });

  it(`refuses bounded choices that multiply past ${MAX_PATHS} ways`, () => {
    refuse('(a|a){30}', '"(a|a){30}" makes 1073741824 ways through one match');
    refuse('(a?){10}b', /"\(a\?\)\{10\}" makes 1024 ways/);
    expect(() => checkBacktracking('(a?){9}b', 'oniguruma')).not.toThrow();
  });

  it('passes possessive quantifiers and atomic groups, which never backtrack', () => {
    for (const p of ['(a+)++', '(?:a|a)*+$', '(?>a+)+b'])
      expect(() => checkBacktracking(p, 'fancy-regex')).not.toThrow();
    // Inside an atomic group the pattern can still backtrack before the group ends.
    expect(() => checkBacktracking('(?>(a+)+b)', 'oniguruma')).toThrow(/exponentially/);
  });
});
