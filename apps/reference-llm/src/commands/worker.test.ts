import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runBenchmark } from '@tessera/eval';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME, queueCalls, redisConnection } from '../queue/bullmq.js';
import { type CallResult, callLanguageModel, localCalls, type ModelCall } from '../queue/calls.js';
import { builtInTasks } from '../task-suite.js';
import { microRun } from '../test-utils/checkpoints.js';
import { runCommand } from '../test-utils/commands.js';
import { judgedItems, stubJudge } from '../test-utils/judge-endpoint.js';
import { emptyQueue, queueCounts, startRedis } from '../test-utils/redis.js';
import { workerCommand } from './worker.js';

const { cpu } = await testDevices();
const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));

let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

/** `reference-llm worker` as a process on the test's Redis, logging each job; `ready` once it listens. */
function workerProcess(name: string, args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'worker', '--queue', redis.url, ...args, '--backend', 'cpu', '--log'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => output.includes('worker on') && resolve());
    child.once('exit', (code) =>
      reject(new Error(`worker ${name} exited with ${code}:\n${output}`)),
    );
  });
  return { child, ready, output: () => output };
}

describe('reference-llm worker (processes on a real redis-server)', () => {
  it('refuses a --queue that is not a Redis URL, naming the flag', async () => {
    await expect(
      runCommand(workerCommand, ['--queue', 'localhost:6379', '--backend', 'cpu']),
    ).rejects.toThrow(
      '--queue: expected a Redis URL such as redis://127.0.0.1:6379, got localhost:6379',
    );
  });

  it('a worker killed while it holds a job: another worker runs it, nothing lost or counted twice', async () => {
    await emptyQueue(redis.url);
    const plain = await stubJudge();
    const expected = await judgedItems(localCalls(cpu), plain.url, 1);
    await plain.close();
    // The first judge request is never answered: its worker holds the job until it is killed.
    const judge = await stubJudge((n) => (n === 0 ? 'hold' : undefined));
    const a = workerProcess('a', ['--lock-duration', '2000']);
    await a.ready;
    const queued = await queueCalls(redis.url);
    let b: ReturnType<typeof workerProcess> | undefined;
    try {
      const report = judgedItems(queued, judge.url, 3);
      for (let waited = 0; judge.asked.length === 0; waited += 50) {
        if (waited > 60_000) throw new Error(`no worker took a job:\n${a.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      b = workerProcess('b', ['--lock-duration', '2000']);
      await b.ready;
      a.child.kill('SIGKILL');
      expect(await report).toEqual(expected);
      // Six calls: the held one asked twice (by the killed worker, then by the other), the rest once.
      expect(judge.asked).toHaveLength(7);
      expect(judge.asked.filter((q) => q === judge.asked[0])).toHaveLength(2);
      expect(new Set(judge.asked).size).toBe(6);
      expect(await queueCounts(redis.url)).toEqual({ completed: 6, failed: 0 });
      expect(b.output().match(/: done$/gm)).toHaveLength(6);
    } finally {
      await queued.close();
      a.child.kill('SIGKILL');
      b?.child.kill('SIGTERM');
      await judge.close();
    }
  });

  it('--concurrency N: the worker never runs more than N jobs at once; the results are the in-process ones', async () => {
    await emptyQueue(redis.url);
    const dir = await microRun(cpu);
    // Each judge request is answered 300 ms after it came; the endpoint counts those it holds.
    const judge = await stubJudge(() => undefined, 300);
    const calls: ModelCall[] = Array.from({ length: 12 }, (_, i) => ({
      kind: 'judge',
      url: judge.url,
      model: 'stub',
      messages: [{ role: 'user', content: `Answer 1: ${'x'.repeat(i)}\n\nAnswer 2: xxxxxx` }],
    }));
    const worker = workerProcess('w', ['--concurrency', '3']);
    await worker.ready;
    const queued = await queueCalls(redis.url);
    const counts = new Queue(QUEUE_NAME, { connection: redisConnection(redis.url) });
    // BullMQ's own count of the jobs active at once, sampled while the jobs run.
    let maxActive = 0;
    let sample: Promise<void> = Promise.resolve();
    const sampling = setInterval(() => {
      sample = sample.then(async () => {
        maxActive = Math.max(maxActive, await counts.getActiveCount());
      });
    }, 10);
    const local = localCalls(cpu);
    const warnings: string[] = [];
    const warned = (w: Error) => warnings.push(w.name);
    process.on('warning', warned);
    try {
      const options = { limit: 2, numFewshot: 1, seed: 3 };
      const [onQueue, benchmark] = await Promise.all([
        Promise.all(calls.map((c) => queued.run(c))),
        runBenchmark(callLanguageModel(queued, dir), builtInTasks(), {
          ...options,
          concurrency: 16,
        }),
      ]);
      clearInterval(sampling);
      await sample;
      expect(judge.maxInFlight).toBe(3);
      expect(maxActive).toBeGreaterThan(0);
      expect(maxActive).toBeLessThanOrEqual(3);
      expect(worker.output()).toContain('worker on');
      expect(worker.output()).toContain(', 3 jobs at once,');
      const inProcess: CallResult[] = [];
      for (const c of calls) inProcess.push(await local.run(c));
      expect(onQueue).toEqual(inProcess);
      expect(benchmark).toEqual(
        await runBenchmark(callLanguageModel(local, dir), builtInTasks(), options),
      );
      // 12 judge calls, 2 generations, 2 quiz items of 4 choices: every job run once.
      expect(await queueCounts(redis.url)).toEqual({ completed: 12 + 2 + 8, failed: 0 });
      // Many calls waiting at once on the coordinator's queue are no listener leak.
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', warned);
      clearInterval(sampling);
      await sample.catch(() => {});
      await counts.close();
      await queued.close();
      await local.close();
      worker.child.kill('SIGTERM');
      await judge.close();
    }
  });
});
