import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pythonRstrip, pythonSplit, pythonStrip } from './python-str.js';

// fixtures/sacrebleu.json (made by fixtures/make-sacrebleu-fixture.py): every code point whose
// str.isspace() is true in the Python that ran sacreBLEU.
const { whitespace, python } = JSON.parse(
  readFileSync(new URL('../fixtures/sacrebleu.json', import.meta.url), 'utf8'),
) as { whitespace: number[]; python: string };

describe("Python's str.split(), strip() and rstrip()", () => {
  it(`separate words at exactly Python ${python}'s whitespace, over every code point`, () => {
    const python = new Set(whitespace);
    const ours: number[] = [];
    for (let c = 0; c <= 0x10ffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      if (pythonSplit(`a${String.fromCodePoint(c)}b`).length === 2) ours.push(c);
    }
    expect(ours).toEqual(whitespace);
    // The characters where JavaScript's \s differs, and format characters that are not space.
    for (const c of [0x1c, 0x1f, 0x85]) expect(python.has(c)).toBe(true);
    for (const c of [0xfeff, 0x200b, 0x2060, 0x180e]) expect(python.has(c)).toBe(false);
  });

  it('collapse runs, drop empty ends, and strip only whitespace', () => {
    expect(pythonSplit('\u3000 a\t\x85b\x1c\u2028 c\ufeff\u200b ')).toEqual([
      'a',
      'b',
      'c\ufeff\u200b',
    ]);
    expect(pythonSplit(' \t\n')).toEqual([]);
    expect(pythonStrip('\x85\u00a0 a b\u3000\x1f')).toBe('a b');
    expect(pythonStrip('\ufeffa\u200b')).toBe('\ufeffa\u200b');
    expect(pythonRstrip(' a \u2029\n')).toBe(' a');
    expect(pythonRstrip('𠀀 ')).toBe('𠀀');
  });
});
