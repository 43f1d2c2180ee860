import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { METHODS } from '../rag/retrieval-methods.js';
import { tempDir } from '../test-utils/fixtures.js';
import { pretrainedMicro } from '../test-utils/tuning.js';

// The commands as a user runs them, one real process each, on the CPU backend.
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
const dir = tempDir();

function run(...args: string[]): Promise<{ code: number | null; output: string }> {
  // Without DATABASE_URL, whatever the environment has: pgvector's message is tested.
  const { DATABASE_URL: _, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

const bench = join(dir, 'bench');
const models = join(dir, 'models');
const index = join(dir, 'index');
const cpu = ['--backend', 'cpu'];

describe('rag, the command', () => {
  it('builds the benchmark, trains, evaluates, indexes and queries', async () => {
    const b = await run('rag', 'bench', '--out', bench, '--passages', '30');
    expect(b.output).toContain(`${bench}: 30 passages; 84 training, 3 dev and 6 test questions`);
    const t = await run(
      ...['rag', 'train', '--bench', bench, '--out', models, '--steps', '2', '--rerank-steps', '1'],
      ...['--batch-size', '4', '--d-model', '16', '--layers', '1', '--vocab-size', '300', ...cpu],
    );
    expect(t.code, t.output).toBe(0);
    expect(t.output).toMatch(/bi-encoder loss \d\.\d{3} → \d\.\d{3}, reranker loss/);
    const chosen = t.output.match(
      /^method of "rag query" and "agent": ([a-z0-9-]+) \(nDCG@10 on dev: bm25 \d\.\d{3}, /m,
    );
    expect(chosen, t.output).not.toBeNull();
    expect(t.output).toMatch(
      /dense weight of weighted fusion: (0|1|0\.\d) \(nDCG@10 on the 3 questions of dev: 0: \d\.\d{3}, 0\.1: /,
    );
    const e = await run('rag', 'eval', '--bench', bench, '--models', models, ...cpu);
    expect(e.code, e.output).toBe(0);
    expect(e.output).toMatch(/6 questions of .*test\.tsv, 30 passages/);
    // eval uses what train recorded, and says so.
    expect(e.output).toContain(
      `method of "rag query" and "agent": ${chosen![1]} (nDCG@10 on dev: `,
    );
    expect(e.output).toContain(`as recorded in ${join(models, 'retrieval.json')}`);
    const evalArgs = ['rag', 'eval', '--bench', bench, '--models', models, ...cpu];
    const flattering = await run(...evalArgs, '--tune', 'test');
    expect(flattering.code).toBe(1);
    expect(flattering.output).toContain(
      '--tune test: the method and weight chosen on the split evaluated (--split) would flatter them',
    );
    const nosplit = await run(...evalArgs, '--split', 'nope');
    expect(nosplit.code).toBe(1);
    expect(nosplit.output).toContain(
      `--split nope: loadBeir: cannot read ${join(bench, 'qrels', 'nope.tsv')}`,
    );
    const retuned = await run(...evalArgs, '--split', 'dev', '--tune', 'test');
    expect(retuned.output).toMatch(/nDCG@10 on the 6 questions of test: .*; recorded in /s);
    const after = JSON.parse(readFileSync(join(models, 'retrieval.json'), 'utf8'));
    expect(after.tuned).toMatchObject({ split: 'test', questions: 6 });
    for (const method of METHODS)
      expect(e.output).toMatch(
        new RegExp(`\\| ${method} \\| \\d\\.\\d{4} \\| \\d\\.\\d{4} \\| \\d\\.\\d{4} \\|`),
      );
    const i = await run(
      'rag',
      'index',
      '--data',
      join(bench, 'corpus.jsonl'),
      '--models',
      models,
      '--out',
      index,
      ...cpu,
    );
    expect(i.code, i.output).toBe(0);
    // A passage longer than the window (in this small vocabulary) becomes two chunks.
    expect(i.output).toMatch(/: (3\d) chunks of 30 documents \(≤ 192 tokens each\)/);
    const question = JSON.parse(readFileSync(join(bench, 'queries.jsonl'), 'utf8').split('\n')[0]!);
    const q = await run('rag', 'query', '--index', index, '-k', '2', ...cpu, question.text);
    expect(q.code, q.output).toBe(0);
    // query retrieves with the method the models folder records now.
    expect(q.output).toMatch(
      new RegExp(`^method: ${after.tuned.method}( \\(dense weight [\\d.]+\\))?\n`, 'm'),
    );
    const b25 = await run('rag', 'query', '--index', index, '--method', 'bm25', ...cpu, 'who?');
    expect(b25.output).toMatch(/^method: bm25\n/m);
    expect(q.output).toMatch(/^\[1\] -?\d+\.\d{3} {2}p\d+:0-\d+\n/m);
    expect(q.output).toMatch(/^\[2\] /m);
    // With a language model of a 64-token window the prompt gets what the answer leaves.
    const lm = await pretrainedMicro(await T.createDevice({ backend: 'cpu' }));
    // (A method with a dense half, which finds 2 passages for any question: BM25 may find fewer.)
    const asked = ['rag', 'query', '--index', index, '-k', '2', '--method', 'hybrid-rrf'];
    asked.push('--checkpoint', lm, ...cpu);
    const a = await run(...asked, '--max-new-tokens', '4', 'who?');
    expect(a.code, a.output).toBe(0);
    const fit = a.output.match(
      /^prompt: ([0-2]) of 2 passages fit \((\d+) tokens of the 60 that the 64-token window leaves beside 4 new tokens/m,
    );
    expect(fit, a.output).not.toBeNull();
    expect(Number(fit![2])).toBeLessThanOrEqual(60);
    expect(a.output).toMatch(/^answer: /m);
    const long = await run(...asked, question.text);
    expect(long.code).toBe(1);
    expect(long.output).toMatch(
      /the instructions and the question take \d+ tokens, over the 48 that the model's 64-token window leaves beside --max-new-tokens 16: ask a shorter question/,
    );
  });

  it('refuses to overwrite an index, and names a folder that is not one', async () => {
    const again = await run(
      'rag',
      'index',
      '--data',
      join(bench, 'corpus.jsonl'),
      '--models',
      models,
      '--out',
      index,
      ...cpu,
    );
    expect(again.code).toBe(1);
    expect(again.output).toContain(`--out ${index} exists; give a new folder for the index`);
    // bench and train refuse an existing --out (train before any training) unless --force.
    const other = join(dir, 'bench-again');
    expect((await run('rag', 'bench', '--out', other, '--passages', '20')).code).toBe(0);
    const b = await run('rag', 'bench', '--out', other, '--passages', '30');
    expect(b.code).toBe(1);
    expect(b.output).toContain(
      `--out ${other} exists; give a new folder for the benchmark, or --force to replace it`,
    );
    const forced = await run('rag', 'bench', '--out', other, '--passages', '30', '--force');
    expect(forced.output).toContain(`${other}: 30 passages`);
    expect(readFileSync(join(other, 'corpus.jsonl'), 'utf8').trim().split('\n')).toHaveLength(30);
    const nodev = await run(
      'rag',
      'train',
      '--bench',
      bench,
      '--out',
      join(dir, 'm2'),
      '--tune',
      'x',
    );
    expect(nodev.code).toBe(1);
    expect(nodev.output).toContain(
      `--tune x: loadBeir: cannot read ${join(bench, 'qrels', 'x.tsv')} (ENOENT); give a split the encoders do not train on (rag bench writes dev)`,
    );
    const t = await run('rag', 'train', '--bench', bench, '--out', models, ...cpu);
    expect(t.code).toBe(1);
    expect(t.output).toContain(
      `--out ${models} exists; give a new folder for the models, or --force to replace it`,
    );
    expect(t.output).not.toContain('embed');
    // LanceDB in the index folder; pgvector needs a database.
    const data = ['--data', join(bench, 'corpus.jsonl'), '--models', models, ...cpu];
    const lance = join(dir, 'index-lance');
    const l = await run('rag', 'index', ...data, '--out', lance, '--store', 'lancedb');
    expect(l.output).toMatch(/chunks of 30 documents .*, store lancedb/);
    const lq = await run('rag', 'query', '--index', lance, '--method', 'dense', ...cpu, 'who?');
    expect(lq.code, lq.output).toBe(0);
    expect(lq.output).toMatch(/^method: dense\n\[1\] /m);
    expect(lq.output).not.toContain('WARN');
    const p = await run('rag', 'index', ...data, '--out', join(dir, 'pg'), '--store', 'pgvector');
    expect(p.code).toBe(1);
    expect(p.output).toContain(
      '--store pgvector keeps its vectors in PostgreSQL: give --database-url postgres://… or set DATABASE_URL',
    );
    const none = await run('rag', 'query', '--index', bench, ...cpu, 'who?');
    expect(none.code).toBe(1);
    expect(none.output).toContain(`--index ${bench}: not an index folder written by "rag index"`);
  });
});
