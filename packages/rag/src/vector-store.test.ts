import { checkVector } from '@tessera/rag';
import { describe, expect, it } from 'vitest';
import { checkK, checkRecords } from './vector-store.js';

describe('vector checks', () => {
  it('name the argument, the value and what was expected', () => {
    expect(checkVector('f', 'query', [1, 2], 2, 'l2')).toEqual([1, 2]);
    expect(() => checkVector('f', 'query', 'ab', 2, 'l2')).toThrow(
      'f: query must be a Float32Array or number[], got string',
    );
    expect(() => checkVector('f', 'query', [1, 2, 3], 2, 'l2')).toThrow(
      'f: query has 3 values, expected the dimension 2',
    );
    expect(() => checkVector('f', 'query', [1, Number.NaN], 2, 'l2')).toThrow(
      'f: query[1] is NaN, expected a finite number',
    );
    expect(() => checkVector('f', 'query', [0, 0], 2, 'cosine')).toThrow(
      'f: query is all zeros, which has no cosine direction',
    );
    expect(checkVector('f', 'query', [0, 0], 2, 'l2')).toEqual([0, 0]);
    expect(() => checkK('f', 2.5)).toThrow('f: k must be a positive integer, got 2.5');
    expect(() => checkRecords('f', [{ id: '', vector: [1] }], 1, 'l2', () => false)).toThrow(
      'f: records[0].id must be a non-empty string, got ""',
    );
  });
});
