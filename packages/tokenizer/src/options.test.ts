import { describe, expect, it } from 'vitest';
import { checkOptions } from './options.js';

describe('checkOptions', () => {
  it('passes known keys and undefined', () => {
    expect(() => checkOptions('f', { a: 1 }, ['a', 'b'])).not.toThrow();
    expect(() => checkOptions('f', undefined, ['a'])).not.toThrow();
  });

  it('names the call, the unknown key and the known keys', () => {
    expect(() => checkOptions('encode', { allowSpecial: 'all' }, ['allowedSpecial'])).toThrow(
      new TypeError('encode: unknown option "allowSpecial" (known options: allowedSpecial)'),
    );
  });

  it('refuses values that are not plain objects', () => {
    expect(() => checkOptions('f', null, [])).toThrow('f: options must be an object, got null');
    expect(() => checkOptions('f', [1], [])).toThrow('f: options must be an object, got an array');
    expect(() => checkOptions('f', 3, [])).toThrow('f: options must be an object, got number 3');
  });
});
