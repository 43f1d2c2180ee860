import * as owner from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { checkOptions } from './options.js';

/** The message a check throws, or undefined. */
function message(check: typeof checkOptions, options: unknown): string | undefined {
  try {
    check('corpusBleu', options, ['tokenize', 'lowercase']);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(TypeError);
    return (e as Error).message;
  }
}

describe('checkOptions', () => {
  it("accepts and rejects exactly what the tensor core's checkOptions does, with its messages", () => {
    const inputs: unknown[] = [
      undefined,
      {},
      { tokenize: 'intl' },
      { tokenize: 'intl', lowercase: undefined },
      { tokenise: 'intl' },
      { lowercase: true, smoothMetod: 'exp' },
      null,
      [],
      'intl',
      3,
    ];
    for (const input of inputs)
      expect(message(checkOptions, input)).toBe(message(owner.checkOptions, input));
    expect(message(checkOptions, { tokenise: 'intl' })).toBe(
      'corpusBleu: unknown option "tokenise" (known options: tokenize, lowercase)',
    );
    expect(message(checkOptions, 'intl')).toBe(
      'corpusBleu: options must be an object, got string intl',
    );
  });
});
