import { describe, expect, it } from 'vitest';
import { JsonFields } from './json-fields.js';

describe('JsonFields', () => {
  const f = new JsonFields('file.json');

  it('returns values of the expected type', () => {
    expect(f.object({ a: 1 }, 'x')).toEqual({ a: 1 });
    expect(f.array([1], 'x')).toEqual([1]);
    expect(f.string('s', 'x')).toBe('s');
    expect(f.u32(2 ** 32 - 1, 'x')).toBe(2 ** 32 - 1);
    expect(f.usize(2 ** 40, 'x')).toBe(2 ** 40);
    expect(f.optional(null, (v) => f.boolean(v, 'x'))).toBeUndefined();
    expect(f.withDefault(undefined, true, (v) => f.boolean(v, 'x'))).toBe(true);
    expect(f.variant('Left', 'x', ['Left', 'Right'])).toBe('Left');
    expect(f.variant({ Right: null }, 'x', ['Left', 'Right'])).toBe('Right'); // as serde reads it
  });

  it('names the file, the path, what was expected and what came', () => {
    expect(() => f.object([], 'a.b')).toThrow('file.json: a.b must be an object, got an array');
    expect(() => f.string(null, 'a[0]')).toThrow('file.json: a[0] must be a string, got null');
    expect(() => f.boolean(undefined, 'flag')).toThrow(
      'file.json: flag must be a boolean, got nothing',
    );
    expect(() => f.u32(2 ** 32, 'id')).toThrow(
      'file.json: id must be an integer from 0 to 4294967295 (u32), got number 4294967296',
    );
    expect(() => f.u32(2.5, 'id')).toThrow(/must be an integer from 0 to 4294967295/);
    expect(() => f.usize(-1, 'n')).toThrow(
      'file.json: n must be a non-negative integer (usize), got number -1',
    );
    expect(() => f.withDefault(null, true, (v) => f.boolean(v, 'x'))).toThrow(
      'file.json: x must be a boolean, got null',
    );
    expect(() => f.variant('left', 'd', ['Left', 'Right'])).toThrow(
      'file.json: d must be one of "Left", "Right", got string "left"',
    );
    expect(() => f.type({}, 'model')).toThrow(
      'file.json: model.type must be a string, got nothing',
    );
    expect(f.unsupported('model', 'Unigram').message).toBe(
      'file.json: model.type "Unigram" is not supported',
    );
  });
});
