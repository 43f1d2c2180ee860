/**
 * Serving under load, on loopback: `reference-llm serve` (a real process) with the `tiny` model,
 * and a bounded load generator of 1, 4, 16 and 64 concurrent streaming clients. Each level runs
 * against two servers in the same run: continuous batching (up to 64 sequences per step) and
 * one request at a time (`--max-batch 1`, the others wait in the queue); the table gives output
 * tokens per second, time to first token and inter-token latency (each request's mean gap
 * between tokens, p50 / p95 over requests), and the ratio of
 * the two throughputs. Both servers run at once and the levels alternate between them, so the
 * two figures of a level come from the same minutes of the machine. Then the KV-cache memory of one sequence, as the engine measured it.
 * `npm run bench:serve -w @tessera/reference-llm` (part of `npm run bench`).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createDevice } from '@tessera/tensor-webgpu';
import { PRESETS } from '../src/presets.js';
import { pretrain } from '../src/pretrain.js';
import { tempDir } from '../src/test-utils/fixtures.js';

const LEVELS = [1, 4, 16, 64];
const PROMPT = 'ROMEO:\nWhat light through yonder window breaks?\n';
const MAX_TOKENS = 32;
/** Requests per level: enough for every client to send two, at least 8. */
const requestsAt = (clients: number) => Math.max(8, 2 * clients);

const device = await createDevice();
const run = tempDir('tessera-bench-serve-');
await pretrain({ preset: PRESETS.tiny!, out: run, steps: 20, device, sink: { write: () => {} } });
device.destroy();

/** Starts `serve` on a free port; resolves with its URL, its startup output and a stop function. */
async function startServer(maxBatch: number) {
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      cli,
      'serve',
      '--model',
      `tiny=${run}`,
      '--port',
      '0',
      '--max-batch',
      String(maxBatch),
      '--max-queue',
      '1024',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const found = /serving on (http:\/\/[\d.:]+)/.exec(output);
      if (found) resolve(found[1]!);
      if (found || child.exitCode !== null) clearInterval(timer);
      if (child.exitCode !== null) reject(new Error(`serve exited:\n${output}`));
    }, 50);
  });
  return {
    url,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface RequestTimes {
  tokens: number;
  ttft: number;
  gaps: number[];
}

/** One streaming completion; the time to its first text and between later pieces, in ms. */
async function streamOnce(url: string, seed: number): Promise<RequestTimes> {
  const sent = performance.now();
  const response = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tiny',
      prompt: PROMPT,
      max_tokens: MAX_TOKENS,
      temperature: 0.8,
      seed,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let last: number | undefined;
  let ttft = 0;
  let tokens = 0;
  const gaps: number[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const data = buffer.slice(6, end);
      buffer = buffer.slice(end + 2);
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data) as {
        choices: { text: string }[];
        usage?: { completion_tokens: number };
      };
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
      if (!chunk.choices[0]?.text) continue;
      const now = performance.now();
      if (last === undefined) ttft = now - sent;
      else gaps.push(now - last);
      last = now;
    }
  }
  return { tokens, ttft, gaps };
}

/** `clients` clients, each sending its share of the level's requests one after another. */
async function load(url: string, clients: number) {
  const total = requestsAt(clients);
  let next = 0;
  const times: RequestTimes[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) times.push(await streamOnce(url, next++));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const tokens = times.reduce((s, t) => s + t.tokens, 0);
  // Inter-token latency as each request's mean gap (vLLM's TPOT): single gaps measured at a
  // client that reads 64 streams on two busy cores come coalesced (several pieces in one read).
  const meanGap = (t: RequestTimes) =>
    t.gaps.reduce((a, b) => a + b, 0) / Math.max(1, t.gaps.length);
  return {
    tokensPerSecond: tokens / seconds,
    ttft: percentiles(times.map((t) => t.ttft)),
    itl: percentiles(times.filter((t) => t.gaps.length).map(meanGap)),
  };
}

function percentiles(values: number[]): { p50: number; p95: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p95: at(0.95) };
}

// Both servers run side by side, warmed; each level alternates between them for ROUNDS rounds
// and keeps each one's best round (the machine is shared: a round can be slowed from outside).
const ROUNDS = 2;
const servers = {
  'continuous batching': await startServer(64),
  'one at a time': await startServer(1),
};
for (const server of Object.values(servers)) await streamOnce(server.url, 0);
const results = new Map<string, Awaited<ReturnType<typeof load>>>();
for (const clients of LEVELS)
  for (let round = 0; round < ROUNDS; round++)
    for (const [mode, server] of Object.entries(servers)) {
      const r = await load(server.url, clients);
      const key = `${mode}:${clients}`;
      if (!results.has(key) || r.tokensPerSecond > results.get(key)!.tokensPerSecond)
        results.set(key, r);
    }
const startup = servers['continuous batching'].output();
for (const server of Object.values(servers)) await server.stop();

const ms = (x: number) => x.toFixed(1);
console.log(
  `tiny model (${PRESETS.tiny!.model.layers}×${PRESETS.tiny!.model.dModel}), prompt ${JSON.stringify(PROMPT)}, ${MAX_TOKENS} tokens per request, max(8, 2 × clients) requests per level, best of ${ROUNDS} alternating rounds`,
);
console.log(startup.split('\n').find((l) => l.startsWith('tiny:')) ?? '');
console.log('');
console.log(
  '| clients | server | output tokens/s | TTFT p50 / p95 (ms) | inter-token p50 / p95 (ms) | batching / one at a time |',
);
console.log('|---:|---|---:|---:|---:|---:|');
for (const clients of LEVELS) {
  const batched = results.get(`continuous batching:${clients}`)!;
  const serial = results.get(`one at a time:${clients}`)!;
  for (const [mode, r] of [
    ['continuous batching', batched],
    ['one at a time', serial],
  ] as const)
    console.log(
      `| ${clients} | ${mode} | ${r.tokensPerSecond.toFixed(0)} | ${ms(r.ttft.p50)} / ${ms(r.ttft.p95)} | ${ms(r.itl.p50)} / ${ms(r.itl.p95)} | ${mode === 'continuous batching' ? `${(batched.tokensPerSecond / serial.tokensPerSecond).toFixed(2)}×` : ''} |`,
    );
}
const kv = /(\d+) rows of (\d+) positions, KV cache ([\d.]+) MiB/.exec(startup);
if (kv) {
  const perSequence = (Number(kv[3]) * 2 ** 20) / Number(kv[1]);
  console.log(
    `\nKV cache: ${kv[3]} MiB for ${kv[1]} rows of ${kv[2]} positions = ${(perSequence / 1024).toFixed(1)} KiB per active sequence (${(perSequence / Number(kv[2])).toFixed(0)} bytes per position)`,
  );
}
