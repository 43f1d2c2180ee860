import { describe, expect, it } from 'vitest';
import { compileSchema, minLength } from './json-grammar.js';

describe('compileSchema', () => {
  it('gives the shortest JSON text each schema accepts', () => {
    const shortest = (schema: unknown) => minLength(compileSchema(schema));
    expect(shortest({ type: 'string', minLength: 3 })).toBe('"aaa"'.length);
    expect(shortest({ type: 'integer' })).toBe(1);
    expect(shortest({ enum: ['north', 'up', 12345] })).toBe('"up"'.length);
    expect(shortest({ type: ['boolean', 'null'] })).toBe(4);
    expect(shortest({ type: 'array', items: { type: 'integer' }, minItems: 3 })).toBe(
      '[0,0,0]'.length,
    );
    expect(
      shortest({
        type: 'object',
        properties: { a: { type: 'integer' }, bé: { type: 'string' }, c: {} },
        required: ['a', 'bé'],
      }),
    ).toBe(new TextEncoder().encode('{"a":0,"bé":""}').length);
    expect(shortest({ type: 'object' })).toBe(2);
    expect(shortest(true)).toBe(1);
  });

  it('refuses what it cannot encode, naming the path', () => {
    expect(() => compileSchema({ type: 'object', properties: { a: { $ref: '#/x' } } })).toThrow(
      'schema.properties.a uses "$ref", which constrained decoding does not support',
    );
    expect(() => compileSchema({ type: 'date' })).toThrow(
      /schema.type "date" is not a JSON Schema type/,
    );
    expect(() => compileSchema(false)).toThrow('schema is false: no value satisfies it');
    expect(() => compileSchema({ enum: [] })).toThrow('schema.enum must be a non-empty array');
    expect(() =>
      compileSchema({ type: 'object', properties: {}, required: ['a'] }, 'tools[0].parameters'),
    ).toThrow('tools[0].parameters.required names "a", which "properties" does not define');
    expect(() => compileSchema({ type: 'string', maxLength: -1 })).toThrow(
      'schema.maxLength must be an integer >= 0, got -1',
    );
  });

  it('an integer between two bounds becomes the enum of its values; other value keywords are refused', () => {
    const node = compileSchema({ type: 'integer', minimum: -2, maximum: 3 });
    expect(node.kind).toBe('literal');
    const texts = (node as { texts: Uint8Array[] }).texts.map((t) => new TextDecoder().decode(t));
    expect(texts).toEqual(['-2', '-1', '0', '1', '2', '3']);
    for (const [schema, word] of [
      [{ type: 'string', pattern: '^[0-9]{5}$' }, '"pattern"'],
      [{ type: 'string', format: 'date' }, '"format"'],
      [{ type: 'number', multipleOf: 2 }, '"multipleOf"'],
      [{ type: 'array', uniqueItems: true }, '"uniqueItems"'],
      [{ type: 'integer', exclusiveMinimum: 0 }, '"exclusiveMinimum"'],
      [{ type: 'integer', minimum: 1 }, '1..undefined'],
      [{ type: 'number', minimum: 0, maximum: 1 }, 'number 0..1'],
      [{ type: 'integer', minimum: 0, maximum: 256 }, 'at most 256 values'],
    ] as const)
      expect(() => compileSchema(schema, 'tools[0].parameters')).toThrow(
        new RegExp(`^tools\\[0\\]\\.parameters uses .*${word.replace(/[.[\]]/g, '\\$&')}`),
      );
  });
});
