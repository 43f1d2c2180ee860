import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBeir } from '@tessera/rag/node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA, readText } from '../data.js';
import { buildBenchmark, otherForm, speeches, writeBenchmark } from './benchmark.js';

const play = readText(DEFAULT_DATA);

describe('retrieval benchmark', () => {
  it('splits a play into speeches', () => {
    expect(speeches('ROMEO:\nO she doth teach\nthe torches\n\nFirst Citizen:\nSpeak.\n')).toEqual([
      { speaker: 'ROMEO', text: 'O she doth teach\nthe torches' },
      { speaker: 'First Citizen', text: 'Speak.' },
    ]);
  });

  it('rejects an unknown option, naming it', () => {
    expect(() => buildBenchmark(play, { passage: 20 } as never)).toThrow(
      'buildBenchmark: unknown option "passage" (known options: passages, heldout, dev, trainQuestions, quoteWords, seed)',
    );
  });

  it('asks about words of the passage it judges, quoted or reworded, with the speaker as the answer', () => {
    const b = buildBenchmark(play, { passages: 50, seed: 3 });
    expect(b.corpus).toHaveLength(50);
    const judged = { ...b.qrels.train, ...b.qrels.dev, ...b.qrels.test };
    for (const q of b.queries) {
      const passage = b.corpus.find((d) => d.id === Object.keys(judged[q.id]!)[0])!;
      const words = passage.text.toLowerCase().match(/[a-z']+/g)!;
      if (q.kind === 'quote') {
        const quote = /^who says «(.+)»\?$/.exec(q.text)![1]!;
        expect(` ${words.join(' ')} `).toContain(` ${quote} `);
      } else {
        const keywords = /^who speaks of (.+)\?$/.exec(q.text)![1]!.split(/, | and /);
        expect(keywords).toHaveLength(3);
        for (const k of keywords) expect(words.map(otherForm)).toContain(k);
      }
      expect(q.answer).toBe(passage.title);
    }
    // The kinds alternate: as many of each, give or take one.
    const keywordQuestions = b.queries.filter((q) => q.kind === 'keywords').length;
    expect(Math.abs(2 * keywordQuestions - b.queries.length)).toBeLessThanOrEqual(1);
    expect(Object.keys(b.qrels.test)).toHaveLength(10);
    expect(Object.keys(b.qrels.dev)).toHaveLength(5);
    expect(Object.keys(b.qrels.train)).toHaveLength(35 * 4);
    // No dev or test question is about a passage a training question is about.
    const trainPassages = new Set(Object.values(b.qrels.train).flatMap((d) => Object.keys(d)));
    for (const split of [b.qrels.dev, b.qrels.test])
      for (const docs of Object.values(split))
        expect(trainPassages.has(Object.keys(docs)[0]!)).toBe(false);
  });

  it('rewords a word by the commonest inflection rules', () => {
    const pairs = [
      ['torches', 'torch'],
      ['torch', 'torches'],
      ['ladies', 'lady'],
      ['lady', 'ladies'],
      ['kings', 'king'],
      ['king', 'kings'],
      ['burneth', 'burns'],
      ["lov'd", 'loved'],
      ['drenched', 'drench'],
      ['goes', 'go'],
      ['gloss', 'glosses'],
    ];
    expect(pairs.map(([w]) => otherForm(w!))).toEqual(pairs.map(([, o]) => o));
  });

  it('says when the splits leave no training passage', () => {
    expect(() => buildBenchmark(play, { passages: 10, heldout: 0.6, dev: 0.4 })).toThrow(
      'buildBenchmark: heldout 0.6 and dev 0.4 leave no training passage of 10',
    );
  });

  it('is the same for the same seed and differs for another', () => {
    const a = buildBenchmark(play, { passages: 20, seed: 1 });
    expect(buildBenchmark(play, { passages: 20, seed: 1 })).toEqual(a);
    expect(buildBenchmark(play, { passages: 20, seed: 2 }).corpus).not.toEqual(a.corpus);
  });

  it('says when the text is too short', () => {
    expect(() => buildBenchmark('A:\nhi\n', { passages: 2 })).toThrow(
      'buildBenchmark: the text has 0 speeches of 2–6 lines and 80–320 characters; 2 passages were asked for',
    );
  });

  it('writes BEIR files that @tessera/rag reads back', async () => {
    const b = buildBenchmark(play, { passages: 20 });
    const dir = mkdtempSync(join(tmpdir(), 'bench-'));
    writeBenchmark(dir, b);
    const test = await loadBeir(dir, 'test');
    expect(test.corpus.size).toBe(20);
    expect(test.qrels).toEqual(b.qrels.test);
    expect(test.queries.get('q19')).toBe(b.queries.find((q) => q.id === 'q19')!.text);
    expect((await loadBeir(dir, 'dev')).qrels).toEqual(b.qrels.dev);
    const quote = (await loadBeir(dir, 'test-quote')).qrels;
    const keywords = (await loadBeir(dir, 'test-keywords')).qrels;
    expect({ ...quote, ...keywords }).toEqual(b.qrels.test);
    for (const q of Object.keys(keywords))
      expect(b.queries.find((x) => x.id === q)!.kind).toBe('keywords');
    expect(Object.keys(quote).length).toBeGreaterThan(0);
    expect((await loadBeir(dir, 'train')).queries.size).toBe(14 * 4);
    expect(readFileSync(join(dir, 'queries.jsonl'), 'utf8')).toContain(
      `"metadata":{"answer":"${b.queries[0]!.answer}","kind":"quote"}`,
    );
  });
});
