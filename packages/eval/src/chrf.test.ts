import { readFileSync } from 'node:fs';
import { type ChrfOptions, corpusChrf, sentenceChrf } from '@tessera/eval';
import { describe, expect, it } from 'vitest';

// fixtures/sacrebleu.json, made by fixtures/make-sacrebleu-fixture.py with sacreBLEU 2.6.0 itself:
// chrF and chrF++ with each whitespace and format character in each position, and seeded random
// corpora of short sentences (orders one side has no n-grams of, several references) under every
// option; scores and corpus-summed [hypothesis, reference, match] statistics per order.
interface FixtureCase {
  hypotheses: string[];
  references: string[][];
  options: ChrfOptions;
  sentence: boolean;
  score: number;
  stats: number[];
}
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/sacrebleu.json', import.meta.url), 'utf8'),
) as { sacrebleu: string; chrf: FixtureCase[] };

const run = (c: FixtureCase) =>
  c.sentence
    ? sentenceChrf(
        c.hypotheses[0]!,
        c.references.map((stream) => stream[0]!),
        c.options,
      )
    : corpusChrf(c.hypotheses, c.references, c.options);

// The cases below are the published values of sacreBLEU's own chrF test-suite.
type Case = [string[], string[], number];

describe(`chrF (sacreBLEU ${fixture.sacrebleu})`, () => {
  // No exp or log: every operation is IEEE arithmetic in sacreBLEU's order, so bits agree.
  it('gives the same statistics and the same score, to the last bit, on every fixture case', () => {
    expect(fixture.chrf.length).toBeGreaterThan(1500);
    for (const c of fixture.chrf) {
      const r = run(c);
      const label = JSON.stringify([c.hypotheses, c.references, c.options]);
      expect([label, r.statistics, r.score]).toEqual([label, c.stats, c.score]);
    }
  });

  // Issue 13.3: "Irre." has no 6-gram, so the 7 of "Fantastisch." are not counted at order 6;
  // only the 6 of "Gutgemacht." are, all matched.
  it('counts no hypothesis n-grams of an order the reference has none of (74.976, not 71.44)', () => {
    const r = corpusChrf(['Fantastisch.', 'Gut gemacht.'], [['Irre.', 'Gut gemacht.']]);
    expect(r.score).toBe(74.97592680796095);
    expect(r.score).toBe(fixture.chrf[0]!.score);
    expect(r.statistics.slice(15, 18)).toEqual([6, 6, 6]);
  });

  it('epsilon smoothing, beta 3: averages per-order F over all six orders', () => {
    const cases: Case[] = [
      [['abcdefg'], ['hijklmnop'], 0],
      [['a'], ['b'], 0],
      [[''], ['reference'], 0],
      [['aa'], ['ab'], 8.3333],
      [['a', 'b'], ['a', 'c'], 8.3333],
      [['a'], ['a'], 16.6667],
      [['a b c'], ['a b c'], 50],
      [['a b c'], ['abc'], 50],
      [
        [
          ' risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .',
        ],
        [
          'risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .',
        ],
        63.36173,
      ],
      [
        [' Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. '],
        ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'],
        64.1302698,
      ],
      [
        ['Niemand hat die Absicht, eine Mauer zu errichten'],
        ['Niemand hat die Absicht, eine Mauer zu errichten'],
        100,
      ],
    ];
    for (const [hyp, ref, expected] of cases) {
      expect(
        Math.abs(corpusChrf(hyp, [ref], { beta: 3, epsSmoothing: true }).score - expected),
      ).toBeLessThan(1e-4);
    }
  });

  it('default effective order, beta 3: averages precision and recall over filled orders', () => {
    const cases: Case[] = [
      [['a'], ['a'], 100],
      [[''], ['reference'], 0],
      [['a b c'], ['a b c'], 100],
      [['a b c'], ['abc'], 100],
      [['a', 'b'], ['a', 'c'], 50],
      [['aa'], ['ab'], 25],
    ];
    for (const [hyp, ref, expected] of cases)
      expect(corpusChrf(hyp, [ref], { beta: 3 }).score).toBeCloseTo(expected, 4);
  });

  it('keeps whitespace inside character n-grams when asked', () => {
    const cases: Case[] = [
      [
        ['Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich.'],
        ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'],
        67.3481606,
      ],
      [
        [
          'risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .',
        ],
        [
          'risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .',
        ],
        65.2414427,
      ],
    ];
    for (const [hyp, ref, expected] of cases) {
      expect(
        Math.abs(corpusChrf(hyp, [ref], { beta: 3, keepWhitespace: true }).score - expected),
      ).toBeLessThan(1e-4);
    }
  });

  it('sentence chrF2 with epsilon smoothing on Czech sentences', () => {
    const cases: [string, string, number][] = [
      [
        'Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.',
        'Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.',
        39.14078509,
      ],
      [
        'Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.',
        'A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.',
        31.22557079,
      ],
      [
        'Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.',
        'Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.',
        57.15704367,
      ],
    ];
    for (const [hyp, ref, expected] of cases) {
      expect(
        Math.abs(sentenceChrf(hyp, [ref], { epsSmoothing: true }).score - expected),
      ).toBeLessThan(1e-4);
    }
  });

  // Words: [the, cat, .] vs [the, cat, !] — unigrams 2/3, bigrams 1/2; mean P = mean R = 7/12.
  it('chrF++ word n-grams split punctuation off the ends of words', () => {
    const r = sentenceChrf('the cat.', ['the cat!'], { charOrder: 0, wordOrder: 2 });
    expect(r.score).toBeCloseTo((100 * 7) / 12, 9);
    expect(r.signature).toBe(
      'chrF2++|nrefs:1|case:mixed|eff:yes|nc:0|nw:2|space:no|version:tessera',
    );
  });

  it('scores an empty reference 0 and very long identical inputs 100', () => {
    expect(corpusChrf(['abc'], [['']]).score).toBe(0);
    const words = Array.from({ length: 5000 }, (_, i) => `w${i % 997}`).join(' ');
    expect(corpusChrf([words], [[words]]).score).toBeCloseTo(100, 9);
  });

  it('picks the best reference per sentence, and rejects bad options', () => {
    expect(sentenceChrf('the cat', ['a dog', 'the cat']).score).toBeCloseTo(100, 9);
    expect(() => corpusChrf(['a'], [['a']], { beta: 0 })).toThrow(/beta must be > 0, got 0/);
    expect(() => corpusChrf(['a'], [['a']], { word_order: 2 } as ChrfOptions)).toThrow(
      'corpusChrf: unknown option "word_order" (known options: charOrder, wordOrder, beta, keepWhitespace, lowercase, epsSmoothing)',
    );
    expect(() => sentenceChrf('a', ['a'], { whitespace: true } as ChrfOptions)).toThrow(
      /^sentenceChrf: unknown option "whitespace"/,
    );
    expect(() => corpusChrf(['a'], [['a']], { charOrder: 1.5 })).toThrow(
      /charOrder must be a non-negative integer, got 1.5/,
    );
    expect(() => corpusChrf(['a', 'b'], [['a']])).toThrow(
      /reference stream 0 has 1 sentences for 2 hypotheses/,
    );
  });
});
