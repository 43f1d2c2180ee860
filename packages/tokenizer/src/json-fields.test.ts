import { describe, expect, it } from 'vitest';
import { JsonFields } from './json-fields.js';

describe('JsonFields', () => {
  const f = new JsonFields('file.json');

  it('returns values of the expected type', () => {
    expect(f.object({ a: 1 }, 'x')).toEqual({ a: 1 });
    expect(f.array([1], 'x')).toEqual([1]);
    expect(f.string('s', 'x')).toBe('s');
    expect(f.boolean(undefined, 'x', true)).toBe(true);
    expect(f.id(0, 'x')).toBe(0);
  });

  it('names the file, the path, what was expected and what came', () => {
    expect(() => f.object([], 'a.b')).toThrow('file.json: a.b must be an object, got an array');
    expect(() => f.string(null, 'a[0]')).toThrow('file.json: a[0] must be a string, got null');
    expect(() => f.boolean(undefined, 'flag')).toThrow(
      'file.json: flag must be a boolean, got nothing',
    );
    expect(() => f.id(2.5, 'id')).toThrow(
      'file.json: id must be a non-negative integer, got number 2.5',
    );
    expect(() => f.type({}, 'model')).toThrow(
      'file.json: model.type must be a string, got nothing',
    );
  });
});
