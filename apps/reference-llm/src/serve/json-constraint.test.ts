import { Rng } from '@tessera/tensor-webgpu';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { JsonConstraint } from './json-constraint.js';
import { compileSchema } from './json-grammar.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Every byte as a token, then some longer ones, as a byte-level BPE vocabulary has. */
const vocabulary = [
  ...Array.from({ length: 256 }, (_, b) => Uint8Array.of(b)),
  ...['{"', '":"', '"}', '",', 'true', 'city', 'name', '12', 'é', '"arguments":', '}}'].map(utf8),
  undefined, // a special token: never allowed
];

const schemas: Record<string, object> = {
  weather: {
    type: 'object',
    properties: {
      city: { type: 'string', minLength: 1, maxLength: 12 },
      unit: { enum: ['celsius', 'fahrenheit'] },
      days: { type: 'integer' },
    },
    required: ['city', 'days'],
  },
  nested: {
    type: 'object',
    properties: {
      tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 3 },
      point: {
        type: 'object',
        properties: { x: { type: 'number' }, y: { type: ['number', 'null'] } },
        required: ['x', 'y'],
      },
      ok: { type: 'boolean' },
    },
    required: ['point'],
  },
  anything: { type: 'object', properties: { data: {}, extra: { type: 'object' } } },
  choice: {
    anyOf: [
      {
        type: 'object',
        properties: { name: { const: 'a' }, n: { type: 'integer' } },
        required: ['name', 'n'],
      },
      {
        type: 'object',
        properties: { name: { const: 'b' }, s: { type: 'string' } },
        required: ['name', 's'],
      },
    ],
  },
};

/** Decodes a value choosing uniformly among the allowed tokens; its text and token count. */
function randomWalk(schema: object, seed: number, budget: number) {
  const rng = new Rng(seed);
  const c = new JsonConstraint(compileSchema(schema), vocabulary);
  let tokens = 0;
  for (; !c.done; tokens++) {
    const allowed = vocabulary.map((_, id) => id).filter((id) => c.allows(id, budget - tokens));
    expect(allowed.length, `no token allowed after ${JSON.stringify(c.text)}`).toBeGreaterThan(0);
    c.advance(allowed[Math.floor(rng.next() * allowed.length)]!);
  }
  return { text: c.text, tokens };
}

describe('JsonConstraint', () => {
  const ajv = new Ajv({ strict: false });

  it.each(Object.keys(schemas))(
    'random decoding under %s always gives JSON that ajv accepts, within the token budget',
    (name) => {
      const schema = schemas[name]!;
      const validate = ajv.compile(schema);
      const budget = 48;
      for (let seed = 0; seed < 40; seed++) {
        const { text, tokens } = randomWalk(schema, seed, budget);
        expect(tokens).toBeLessThanOrEqual(budget);
        const value = JSON.parse(text);
        expect(validate(value), `${text}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      }
    },
  );

  it('a budget of exactly the shortest value still completes it', () => {
    const c = new JsonConstraint(compileSchema(schemas.weather!), vocabulary);
    const shortest = c.shortest;
    expect(shortest).toBe('{"city":"a","days":0}'.length);
    for (let seed = 0; seed < 10; seed++) {
      const { text, tokens } = randomWalk(schemas.weather!, seed, shortest);
      expect(tokens).toBeLessThanOrEqual(shortest);
      expect(JSON.parse(text)).toMatchObject({
        city: expect.any(String),
        days: expect.any(Number),
      });
    }
  });

  it('accepts valid compact JSON byte by byte and refuses a wrong byte where it occurs', () => {
    const accepted = (schema: object, text: string) => {
      const c = new JsonConstraint(compileSchema(schema), vocabulary);
      for (const b of utf8(text)) {
        if (!c.allows(b, 1000)) return c.text;
        c.advance(b);
      }
      return c.done ? true : c.text;
    };
    const weather = schemas.weather!;
    expect(accepted(weather, '{"city":"Paris","unit":"celsius","days":-3}')).toBe(true);
    expect(accepted(weather, '{"city":"Zürich \\"q\\" \\u00e9","days":10}')).toBe(true);
    expect(accepted(weather, '{"city":"Paris","days":1.5}')).toBe('{"city":"Paris","days":1');
    expect(accepted(weather, '{"days":1}')).toBe('{"');
    expect(accepted(weather, '{"city":"","days":1}')).toBe('{"city":"');
    expect(accepted(weather, '{"city":"Paris"}')).toBe('{"city":"Paris"');
    expect(accepted(weather, '{"city":"Paris","days":01}')).toBe('{"city":"Paris","days":0');
    expect(accepted(weather, '{"city":"Paris","unit":"kelvin","days":1}')).toBe(
      '{"city":"Paris","unit":"',
    );
    expect(accepted(weather, '{"city":"a\nb","days":1}')).toBe('{"city":"a');
    const nested = schemas.nested!;
    expect(accepted(nested, '{"tags":["x","y"],"point":{"x":-0.5e+3,"y":null},"ok":false}')).toBe(
      true,
    );
    expect(accepted(nested, '{"tags":[],"point":{"x":1,"y":2}}')).toBe('{"tags":[');
    expect(accepted(nested, '{"point":{"x":1,"y":2}}')).toBe(true);
    expect(accepted(schemas.anything!, '{"data":[1,{"k":"v"},null,true],"extra":{"a":{}}}')).toBe(
      true,
    );
    expect(accepted(schemas.choice!, '{"name":"b","s":"x"}')).toBe(true);
    expect(accepted(schemas.choice!, '{"name":"b","n":1}')).toBe('{"name":"b","');
  });

  it('leading whitespace is allowed only when asked; special tokens and extra text never', () => {
    const c = new JsonConstraint(compileSchema(schemas.weather!), vocabulary, {
      leadingWhitespace: 2,
    });
    expect(c.allows(0x0a, 100)).toBe(true);
    expect(new JsonConstraint(compileSchema(schemas.weather!), vocabulary).allows(0x0a, 100)).toBe(
      false,
    );
    expect(c.allows(vocabulary.length - 1, 100)).toBe(false);
    for (const b of utf8('{"city":"P","days":1}')) c.advance(b);
    expect(c.done).toBe(true);
    expect(c.allows(0x7d, 100)).toBe(false);
    expect(() => c.advance(0x20)).toThrow(/token 32 does not continue/);
  });

  it('masks logits: refused tokens become -Infinity, the others keep their value', () => {
    const c = new JsonConstraint(compileSchema({ enum: ['yes', 'no'] }), vocabulary);
    const logits = new Float32Array(vocabulary.length).fill(1);
    c.mask(logits, 10);
    const kept = [...logits.keys()].filter((i) => logits[i] === 1);
    expect(kept).toEqual([0x22]);
  });
});
