/**
 * Tokenizer benchmarks: `npm run bench -w @tessera/tokenizer`.
 * 1. Encode throughput on tinyshakespeare (1.1 MB) for cl100k_base and o200k_base, against
 *    gpt-tokenizer, js-tiktoken and the WASM tiktoken package, in one run, same text.
 * 2. Long pieces: encode time for runs of one character (10^5 and 10^6 letters, 1 MB of spaces,
 *    1 MB of digits), each against prose of the same length, and the old O(n²) merge loop.
 * 3. Split patterns: what the backtracking guard and the translation cost at load, and how long
 *    the patterns the guard lets through take on text that defeats them.
 * 4. BPE training time for 4k/16k/32k vocabularies on tinyshakespeare and on a 10 MB corpus,
 *    with the peak resident memory.
 */
import { readFileSync } from 'node:fs';
import { encode as gptEncodeCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { encode as gptEncodeO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { get_encoding } from 'tiktoken';
import { heapMerge, scanMerge } from '../src/bpe-merge.js';
import {
  CL100K_PATTERN,
  checkBacktracking,
  compilePattern,
  fromTiktoken,
  Tokenizer,
  trainBpe,
  translatePattern,
} from '../src/index.js';
import { ranksOf } from '../src/test-corpus.js';

const text = readFileSync(
  new URL('../../../apps/reference-llm/data/tinyshakespeare.txt', import.meta.url),
  'utf8',
);
const mb = Buffer.byteLength(text) / 1e6;

/** Best of `reps` timings (seconds) after one warm-up run that fills every cache. */
function best(fn: () => number, reps = 3): { s: number; tokens: number } {
  let tokens = fn();
  let s = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    tokens = fn();
    s = Math.min(s, (performance.now() - t0) / 1000);
  }
  return { s, tokens };
}

console.log(`corpus: tinyshakespeare, ${mb.toFixed(2)} MB\n`);
console.log('| encoding | library | MB/s | tokens/s | Tessera is |');
console.log('|---|---|---|---|---|');
for (const [name, data, gpt] of [
  ['cl100k_base', cl100k, gptEncodeCl100k],
  ['o200k_base', o200k, gptEncodeO200k],
] as const) {
  const ours = fromTiktoken(ranksOf(data), name);
  const js = new Tiktoken(data);
  const wasm = get_encoding(name);
  const results: [string, { s: number; tokens: number }][] = [
    ['@tessera/tokenizer', best(() => ours.encode(text).length)],
    ['gpt-tokenizer', best(() => gpt(text).length)],
    ['js-tiktoken', best(() => js.encode(text).length)],
    ['tiktoken (WASM)', best(() => wasm.encode(text).length)],
  ];
  const oursTime = results[0]![1].s;
  for (const [lib, r] of results) {
    const ratio = lib === '@tessera/tokenizer' ? '' : `${(r.s / oursTime).toFixed(2)}× faster`;
    console.log(
      `| ${name} | ${lib} | ${(mb / r.s).toFixed(2)} | ${(r.tokens / r.s / 1e6).toFixed(2)}M | ${ratio} |`,
    );
  }
  wasm.free();
}

// Long pieces. Each run starts with an empty piece cache (a new Tokenizer on the same config),
// so prose pays for its merges too; long pieces are never cached.
const cl100kTok = fromTiktoken(ranksOf(cl100k), 'cl100k_base');
/** Best of 5 cold encodes (ms) with `method`. */
function cold(input: string, method: 'encode' | 'encodeWithOffsets'): number {
  let ms = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const tok = new Tokenizer(cl100kTok.config);
    const t0 = performance.now();
    tok[method](input);
    ms = Math.min(ms, performance.now() - t0);
  }
  return ms;
}
console.log(
  '\nlong pieces, cl100k_base (best of 5, cold cache); prose: tinyshakespeare of the same length\n',
);
console.log('| input | tokens | encode | prose | ratio to prose | encodeWithOffsets |');
console.log('|---|---|---|---|---|---|');
for (const [label, input] of [
  ["'a' × 10^5", 'a'.repeat(1e5)],
  ["'a' × 10^6", 'a'.repeat(1e6)],
  ['1 MB of spaces', ' '.repeat(1e6)],
  ['1 MB of digits', '0123456789'.repeat(1e5)],
] as const) {
  const ms = cold(input, 'encode');
  const prose = cold(text.slice(0, input.length), 'encode');
  const offsets = cold(input, 'encodeWithOffsets');
  console.log(
    `| ${label} | ${cl100kTok.countTokens(input)} | ${ms.toFixed(1)} ms | ${prose.toFixed(1)} ms | ${(ms / prose).toFixed(2)} | ${offsets.toFixed(1)} ms |`,
  );
}

// The merge loop alone on one run of 'a': the heap against the scanning loop it replaced.
const ranks = ranksOf(cl100k);
console.log("\nmerge loop alone, one run of 'a' (cl100k ranks)\n");
console.log('| length | heapMerge | scanMerge (old) | heap is |');
console.log('|---|---|---|---|');
for (const n of [1e4, 3e4]) {
  const piece = 'a'.repeat(n);
  const rank = (a: number, _: number, c: number) =>
    ranks.get(piece.slice(a, c)) ?? Number.POSITIVE_INFINITY;
  const heap = best(() => heapMerge(n, rank).length, 1).s;
  const scan = best(() => scanMerge(n, rank).length, 1).s;
  console.log(
    `| ${n} | ${(heap * 1000).toFixed(1)} ms | ${(scan * 1000).toFixed(0)} ms | ${(scan / heap).toFixed(0)}× faster |`,
  );
}

// Split patterns from files. The backtracking guard runs once per pattern, at load; what it lets
// through (one or two unbounded repetitions in a row) can still take super-linear time on a text
// that defeats the pattern: each length is twice the one before, so the ratio is 2^k for n^k.
const llama3 =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
console.log('\nsplit patterns: load-time cost (best of 20)\n');
console.log('| pattern | checkBacktracking | translatePattern | new RegExp |');
console.log('|---|---|---|---|');
for (const [label, pattern] of [
  ['Llama-3', llama3],
  ['cl100k_base', CL100K_PATTERN],
] as const) {
  const ms = (fn: () => unknown) =>
    best(() => {
      fn();
      return 0;
    }, 20).s * 1000;
  const source = translatePattern(pattern, 'oniguruma');
  console.log(
    `| ${label} | ${ms(() => checkBacktracking(pattern, 'oniguruma')).toFixed(2)} ms | ${ms(() => translatePattern(pattern, 'oniguruma')).toFixed(2)} ms | ${ms(() => new RegExp(source, 'gu')).toFixed(3)} ms |`,
  );
}
console.log(
  '\nsplit patterns the guard lets through, on text without a match (all "a", or spaces)\n',
);
console.log('| pattern | length | time | ratio to the length before |');
console.log('|---|---|---|---|');
for (const [pattern, char, lengths] of [
  ['.*x', 'a', [5000, 10000, 20000]],
  ['.*.*x', 'a', [300, 600, 1200]],
  ['\\s*[\\r\\n]+', ' ', [5000, 10000, 20000]],
] as const) {
  const regex = compilePattern(pattern, 'oniguruma');
  let before = 0;
  for (const n of lengths) {
    const input = char.repeat(n);
    const s = best(() => [...input.matchAll(regex)].length, 1).s;
    console.log(
      `| \`${pattern}\` | ${n} | ${(s * 1000).toFixed(1)} ms | ${before ? (s / before).toFixed(1) : ''} |`,
    );
    before = s;
  }
}

// Training.
/** Time of `fn` and how far the process's resident memory rose above where it started. */
function peakRss(fn: () => void): { ms: number; peakMb: number } {
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  const t0 = performance.now();
  fn();
  const ms = performance.now() - t0;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { ms, peakMb: (peak - base) / 2 ** 20 };
}

// A 10 MB corpus: tinyshakespeare nine times, each copy with its lines in a different order.
const lines = text.split('\n');
const big: string[] = [text];
for (let k = 1; k < 9; k++)
  big.push(lines.map((_, i) => lines[(i * (2 * k + 1)) % lines.length]).join('\n'));
const bigMb = big.reduce((n, t) => n + Buffer.byteLength(t), 0) / 1e6;

console.log('\n| corpus | vocab | merges learned | time | peak memory growth (RSS) |');
console.log('|---|---|---|---|---|');
for (const [label, corpus] of [
  [`tinyshakespeare (${mb.toFixed(1)} MB)`, [text]],
  [`10 MB mix (${bigMb.toFixed(1)} MB)`, big],
] as const) {
  for (const vocabSize of [4096, 16384, 32768]) {
    let learned = 0;
    const { ms, peakMb } = peakRss(() => {
      learned = trainBpe(corpus, { vocabSize, minFrequency: 1 }).vocabSize - 256;
    });
    console.log(
      `| ${label} | ${vocabSize} | ${learned} | ${(ms / 1000).toFixed(2)} s | ${peakMb.toFixed(0)} MB |`,
    );
  }
}
