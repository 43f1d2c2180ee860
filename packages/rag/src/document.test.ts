import { describe, expect, it } from 'vitest';
import { checkDocuments } from './document.js';

describe('checkDocuments', () => {
  it('accepts distinct ids with text, and names what is wrong otherwise', () => {
    expect(() => checkDocuments('f', [{ id: 'a', text: 'x' }])).not.toThrow();
    expect(() => checkDocuments('f', 'nope' as never)).toThrow(
      'f: documents must be an array of { id, text }',
    );
    expect(() => checkDocuments('f', [{ id: 3, text: 'x' } as never])).toThrow(
      'f: documents[0].id must be a non-empty string, got 3',
    );
    expect(() => checkDocuments('f', [{ id: 'a', text: 'x' }], (id) => id === 'a')).toThrow(
      'f: id "a" (documents[0]) is already indexed; delete it first to replace it',
    );
    expect(() => checkDocuments('f', [{ id: 'a', text: 7 } as never])).toThrow(
      /documents\[0\] \(id "a"\) has an empty text/,
    );
  });
});
