import { describe, expect, it } from 'vitest';
import { caseOrbit, multiCharFold, multiCharFoldTargets } from './case-fold.js';

const chars = (cps: number[]) => cps.map((cp) => String.fromCodePoint(cp)).join('');
const orbit = (c: string) => chars(caseOrbit(c.codePointAt(0)!));

// Expected values are CaseFolding.txt lines (Unicode 15): "017F; C; 0073" (ſ folds to s),
// "212A; C; 006B" (Kelvin sign to k), "03C2; C; 03C3" (final sigma), "03D1; C; 03B8" and
// "03F4; C; 03B8" (theta symbols), "00DF; F; 0073 0073" (ß to ss), "1E9E; F; 0073 0073" and
// "1E9E; S; 00DF", "FB01; F; 0066 0069", "0130; F; 0069 0307".
describe('case folding', () => {
  it('caseOrbit: every character that folds simply alike', () => {
    expect(orbit('s')).toBe('Ss\u017f');
    expect(orbit('K')).toBe('Kk\u212a');
    expect(orbit('ς')).toBe('Σςσ');
    expect(orbit('ϑ')).toBe('Θθϑϴ');
    expect(orbit('ß')).toBe('ßẞ');
    expect(orbit('1')).toBe('1');
    expect(orbit('ı')).toBe('ı'); // dotless i folds to nothing else
  });

  it('multiCharFold: the full foldings that are several characters', () => {
    expect(multiCharFold(0xdf)).toBe('ss');
    expect(multiCharFold(0x1e9e)).toBe('ss');
    expect(multiCharFold(0xfb01)).toBe('fi');
    expect(multiCharFold(0x130)).toBe('i\u0307');
    expect(multiCharFold(0x73)).toBeUndefined();
    expect(multiCharFoldTargets()).toContain('st');
  });
});
