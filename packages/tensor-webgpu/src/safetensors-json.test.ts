import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, parseJson } from './safetensors-json.js';

// What serde_json accepts and refuses is checked against the reference reader itself in
// safetensors.test.ts (fixtures/safetensors-cases); these tests hold the reader's own contract:
// the tree it returns and where its errors point.

describe('parseJson', () => {
  it('keeps every entry of an object in order, duplicates included', () => {
    const value = parseJson('{"a":1,"b":2,"a":3}');
    expect(value.kind === 'object' && value.entries.map(([k, v]) => [k, v.text])).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['a', '3'],
    ]);
  });

  it('keeps numbers as their source text, exact past 2^53 and with their spelling', () => {
    const value = parseJson('[18446744073709551615, 1.0, -0, 4e0, 1E+2]');
    expect(value.kind === 'array' && value.items.map((v) => [v.kind, v.text])).toEqual([
      ['number', '18446744073709551615'],
      ['number', '1.0'],
      ['number', '-0'],
      ['number', '4e0'],
      ['number', '1E+2'],
    ]);
  });

  it('gives each value its source text, without the whitespace around it', () => {
    const value = parseJson(' { "a" : [ 1 , 2 ] , "b" : "x\\n" } ');
    expect(value.text).toBe('{ "a" : [ 1 , 2 ] , "b" : "x\\n" }');
    expect(value.kind === 'object' && value.entries.map(([, v]) => v.text)).toEqual([
      '[ 1 , 2 ]',
      '"x\\n"',
    ]);
  });

  it('decodes escapes, surrogate pairs included', () => {
    const value = parseJson('"\\u00e9\\ud83d\\ude00\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000"');
    expect(value.kind === 'string' && value.value).toBe('é😀"\\/\b\f\n\r\t\u0000');
    expect(parseJson('"\u007f\u2028"')).toMatchObject({ value: '\u007f\u2028' });
  });

  it('reads true, false and null as literals', () => {
    expect(parseJson('[true,false,null]')).toMatchObject({
      items: [
        { kind: 'literal', text: 'true' },
        { kind: 'literal', text: 'false' },
        { kind: 'literal', text: 'null' },
      ],
    });
  });

  it('says what is wrong and where (line and column, from 1)', () => {
    const fails = (text: string) => () => parseJson(text);
    expect(fails('{\n  "a": 1,\n  "b": "\\ud800"\n}')).toThrow(
      new JsonSyntaxError('lone surrogate escape at line 3, column 9'),
    );
    expect(fails('"\\udc00"')).toThrow('lone surrogate escape at line 1, column 2');
    expect(fails('"\\ud800\\u0041"')).toThrow('lone surrogate escape at line 1, column 2');
    expect(fails('\ufeff{}')).toThrow(
      'a byte-order mark (U+FEFF) where a value should begin at line 1, column 1',
    );
    expect(fails('\u000b{}')).toThrow('"\\u000b" where a value should begin at line 1, column 1');
    expect(fails('[1,]')).toThrow('"]" where a value should begin at line 1, column 4');
    expect(fails('{"a" 1}')).toThrow('expected `:` after a key at line 1, column 6');
    expect(fails('{1:2}')).toThrow('expected a string key at line 1, column 2');
    expect(fails('[1 2]')).toThrow('expected `,` or `]` at line 1, column 4');
    expect(fails('{} x')).toThrow('trailing characters after the JSON value at line 1, column 4');
    expect(fails('"a\u0001"')).toThrow(
      'control character U+0001 in a string (JSON needs it escaped) at line 1, column 3',
    );
    expect(fails('"\\x"')).toThrow('invalid escape \\x at line 1, column 2');
    expect(fails('"\\u12"')).toThrow('invalid \\u escape at line 1, column 2');
    expect(fails('"abc')).toThrow('unterminated string at line 1, column 5');
    expect(fails('')).toThrow('the text ends where a value should begin at line 1, column 1');
    expect(fails('-')).toThrow('invalid number at line 1, column 1');
    expect(fails('[01]')).toThrow('expected `,` or `]` at line 1, column 3');
    expect(fails('[1e400]')).toThrow('number 1e400 out of range at line 1, column 2');
  });

  it('refuses nesting deeper than 127 arrays and objects', () => {
    const nest = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expect(parseJson(nest(127)).kind).toBe('array');
    expect(() => parseJson(nest(128))).toThrow(
      'arrays and objects nested deeper than 127 at line 1, column 128',
    );
  });
});
