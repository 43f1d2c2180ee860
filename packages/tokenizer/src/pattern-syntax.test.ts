import { describe, expect, it } from 'vitest';
import { parsePattern } from './pattern-syntax.js';

const x = { kind: 'char', cp: 0x78, caseless: false } as const;

describe('parsePattern reads each engine its own way', () => {
  it('X{n,m}+ is possessive in fancy-regex and a repeated repetition in Oniguruma (Ruby syntax)', () => {
    const inner = { kind: 'repeat', body: x, min: 1, max: 2, lazy: false };
    expect(parsePattern('x{1,2}+', 'fancy-regex')).toEqual({
      kind: 'atomic',
      body: { ...inner, text: 'x{1,2}+' },
    });
    expect(parsePattern('x{1,2}+', 'oniguruma')).toEqual({
      kind: 'repeat',
      body: { ...inner, text: 'x{1,2}' },
      min: 1,
      max: Infinity,
      lazy: false,
      text: 'x{1,2}+',
    });
    // X{n}? is lazy in fancy-regex, optional in Oniguruma; X{n,m}? is lazy in both.
    expect(parsePattern('x{2}?', 'fancy-regex')).toMatchObject({ kind: 'repeat', lazy: true });
    expect(parsePattern('x{2}?', 'oniguruma')).toMatchObject({ kind: 'repeat', min: 0, max: 1 });
    expect(parsePattern('x{1,2}?', 'oniguruma')).toMatchObject({ min: 1, max: 2, lazy: true });
  });

  it('a bare (?i) takes the rest of the group into it in Oniguruma, and holds to its end in fancy-regex', () => {
    const ch = (c: string, caseless: boolean) => ({ kind: 'char', cp: c.codePointAt(0), caseless });
    expect(parsePattern('a(?i)b|c', 'oniguruma')).toEqual({
      kind: 'seq',
      items: [ch('a', false), { kind: 'alt', branches: [ch('b', true), ch('c', true)] }],
    });
    expect(parsePattern('a(?i)b|c', 'fancy-regex')).toEqual({
      kind: 'alt',
      branches: [{ kind: 'seq', items: [ch('a', false), ch('b', true)] }, ch('c', true)],
    });
  });

  it('sets: ranges, escapes, class escapes, properties, nested sets', () => {
    expect(parsePattern('[^a-c\\]\\d\\p{^L}[xy]]', 'oniguruma')).toEqual({
      kind: 'set',
      negated: true,
      caseless: false,
      bracketed: true,
      items: [
        { kind: 'range', from: 0x61, to: 0x63 },
        { kind: 'range', from: 0x5d, to: 0x5d },
        { kind: 'class', name: 'd' },
        { kind: 'property', name: 'L', negated: true },
        {
          kind: 'set',
          negated: false,
          items: [
            { kind: 'range', from: 0x78, to: 0x78 },
            { kind: 'range', from: 0x79, to: 0x79 },
          ],
        },
      ],
    });
    expect(parsePattern('.', 'oniguruma')).toEqual({
      kind: 'set',
      negated: true,
      items: [{ kind: 'range', from: 10, to: 10 }],
      caseless: false,
      bracketed: false,
    });
  });

  it('\\Z is Oniguruma syntax only; unsupported constructs are named', () => {
    expect(parsePattern('\\Z', 'oniguruma')).toEqual({ kind: 'assert', name: 'Z' });
    expect(() => parsePattern('\\Z', 'fancy-regex')).toThrow(
      'pattern "\\\\Z": unsupported escape \\Z at 0',
    );
    expect(() => parsePattern('a)', 'oniguruma')).toThrow('unbalanced ")" at 1');
    expect(() => parsePattern('*a', 'oniguruma')).toThrow('nothing to repeat before "*" at 0');
    expect(() => parsePattern('\\b+', 'oniguruma')).toThrow('a quantifier on an assertion');
    expect(() => parsePattern('(?#x)', 'oniguruma')).toThrow('unsupported group "(?#x" at 0');
    expect(() => parsePattern('a{', 'fancy-regex')).toThrow('a "{" that opens no repetition');
    expect(parsePattern('a{', 'oniguruma')).toMatchObject({ kind: 'seq' }); // a literal "{" in Ruby syntax
  });
});
