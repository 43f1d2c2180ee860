import { beirDocumentText, parseBeirCorpus, parseBeirQrels, parseBeirQueries } from '@tessera/rag';
import { describe, expect, it } from 'vitest';

describe('BEIR files', () => {
  it('parses corpus, queries and qrels (CRLF, blank lines, extra fields)', () => {
    const corpus = parseBeirCorpus(
      '{"_id":"a","title":"T","text":"x","metadata":{"y":1}}\n\n{"_id":"b","text":"y"}\r\n',
    );
    expect([...corpus]).toEqual([
      ['a', { title: 'T', text: 'x' }],
      ['b', { title: '', text: 'y' }],
    ]);
    expect(beirDocumentText(corpus.get('a')!)).toBe('T x');
    expect(beirDocumentText(corpus.get('b')!)).toBe('y');
    expect([...parseBeirQueries('{"_id":"1","text":"q?"}')]).toEqual([['1', 'q?']]);
    expect(parseBeirQrels('query-id\tcorpus-id\tscore\r\n1\ta\t2\r\n1\tb\t0\r\n2\ta\t1\n')).toEqual(
      {
        '1': { a: 2, b: 0 },
        '2': { a: 1 },
      },
    );
  });

  it('names the file and line of a malformed entry', () => {
    expect(() => parseBeirCorpus('{"_id":"a","text":"x"}\n{"_id":"a","text":"y"}')).toThrow(
      'corpus.jsonl:2: duplicate "_id" "a"',
    );
    expect(() => parseBeirCorpus('{"_id":"a","text":"x"}\nnot json')).toThrow(
      /corpus.jsonl:2: not JSON/,
    );
    expect(() => parseBeirQueries('{"text":"q"}')).toThrow(
      'queries.jsonl:1: "_id" must be a non-empty string, got undefined',
    );
    expect(() => parseBeirCorpus('{"_id":"a"}')).toThrow('corpus.jsonl:1: "text" must be a string');
    expect(() => parseBeirQrels('q\td\ts\n')).toThrow(/qrels.tsv:1: expected the header/);
    expect(() => parseBeirQrels('query-id\tcorpus-id\tscore\n1\ta\thigh\n')).toThrow(
      'qrels.tsv:2: score "high" is not an integer',
    );
    expect(() => parseBeirQrels('query-id\tcorpus-id\tscore\n1\ta\t1\n1\ta\t2\n')).toThrow(
      'qrels.tsv:3: query 1 judges document a twice',
    );
  });
});
