import { scoresFromDistances } from '@tessera/rag';
import { describe, expect, it } from 'vitest';

describe('scoresFromDistances', () => {
  it('turns distances into scores that order the same way', () => {
    expect(
      scoresFromDistances([
        { id: 'a', distance: 0.1 },
        { id: 'b', distance: 0.4 },
      ]),
    ).toEqual([
      { id: 'a', score: -0.1 },
      { id: 'b', score: -0.4 },
    ]);
  });
});
