import type { TextCodec } from '@tessera/sampler';
import type { TokenizerLike } from '@tessera/tokenizer';
import { describe, expect, expectTypeOf, it } from 'vitest';

describe('TextCodec', () => {
  it("is exactly the encode/decode part of the tokenizer's TokenizerLike", () => {
    // A type-level test: `npm run typecheck` fails if the two interfaces drift apart.
    expectTypeOf<TextCodec>().toEqualTypeOf<Pick<TokenizerLike, 'encode' | 'decode'>>();
    const codec: TextCodec = {
      encode: (s) => Array.from(s, (c) => c.charCodeAt(0)),
      decode: () => '',
    };
    expect(codec.encode('ab')).toEqual([97, 98]);
  });
});
