import * as owner from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { checkOptions } from './options.js';

/** The message a check throws, or undefined. */
function message(check: typeof checkOptions, options: unknown): string | undefined {
  try {
    check('chunkText', options, ['chunkSize', 'chunkOverlap']);
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
      { chunkSize: 10 },
      { chunkSize: 10, chunkOverlap: undefined },
      { chunksize: 10 },
      { chunkOverlap: 1, overlap: 2 },
      null,
      [],
      '10',
      3,
    ];
    for (const input of inputs)
      expect(message(checkOptions, input)).toBe(message(owner.checkOptions, input));
    expect(message(checkOptions, { chunksize: 10 })).toBe(
      'chunkText: unknown option "chunksize" (known options: chunkSize, chunkOverlap)',
    );
    expect(message(checkOptions, '10')).toBe('chunkText: options must be an object, got string 10');
  });
});
