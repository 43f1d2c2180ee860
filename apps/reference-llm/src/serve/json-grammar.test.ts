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
});
