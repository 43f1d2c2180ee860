import { describe, expect, it } from 'vitest';
import { checkOptions } from './errors.js';

describe('checkOptions', () => {
  it('accepts known keys and no options', () => {
    expect(() => checkOptions('f', { a: 1, b: undefined }, ['a', 'b'])).not.toThrow();
    expect(() => checkOptions('f', undefined, ['a'])).not.toThrow();
  });

  it('names the call, the unknown key and the known ones', () => {
    expect(() => checkOptions('rope', { truncat: false }, ['dim', 'truncate'])).toThrow(
      'rope: unknown option "truncat" (known options: dim, truncate)',
    );
  });

  it('refuses options that are not an object', () => {
    expect(() => checkOptions('f', 3, ['a'])).toThrow('f: options must be an object, got number 3');
    expect(() => checkOptions('f', null, ['a'])).toThrow('got null');
    expect(() => checkOptions('f', [1], ['a'])).toThrow('got an array');
  });
});
