import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBeir } from '@tessera/rag/node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA, readText } from '../data.js';
import { buildBenchmark, speeches, writeBenchmark } from './benchmark.js';

const play = readText(DEFAULT_DATA);

describe('retrieval benchmark', () => {
  it('splits a play into speeches', () => {
    expect(speeches('ROMEO:\nO she doth teach\nthe torches\n\nFirst Citizen:\nSpeak.\n')).toEqual([
      { speaker: 'ROMEO', text: 'O she doth teach\nthe torches' },
      { speaker: 'First Citizen', text: 'Speak.' },
    ]);
  });

  it('asks about words of the passage it judges, with the speaker as the answer', () => {
    const b = buildBenchmark(play, { passages: 50, seed: 3 });
    expect(b.corpus).toHaveLength(50);
    for (const q of b.queries) {
      const [doc] = Object.keys(b.qrels.train[q.id] ?? b.qrels.test[q.id]!);
      const passage = b.corpus.find((d) => d.id === doc)!;
      const quote = /«(.+)»/.exec(q.text)![1]!;
      expect(passage.text.toLowerCase().replace(/[^a-z']+/g, ' ')).toContain(quote);
      expect(q.answer).toBe(passage.title);
    }
    expect(Object.keys(b.qrels.test)).toHaveLength(10);
    expect(Object.keys(b.qrels.train)).toHaveLength(40);
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
    expect(test.queries.get('q19')).toBe(b.queries[19]!.text);
    expect(readFileSync(join(dir, 'queries.jsonl'), 'utf8')).toContain(
      `"metadata":{"answer":"${b.queries[0]!.answer}"}`,
    );
  });
});
