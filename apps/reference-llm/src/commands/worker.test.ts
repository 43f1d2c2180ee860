import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueCalls } from '../queue/bullmq.js';
import { localCalls } from '../queue/calls.js';
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
    const worker = (name: string) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          cli,
          'worker',
          '--queue',
          redis.url,
          '--lock-duration',
          '2000',
          '--backend',
          'cpu',
          '--log',
        ],
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
    };
    const a = worker('a');
    await a.ready;
    const queued = await queueCalls(redis.url);
    let b: ReturnType<typeof worker> | undefined;
    try {
      const report = judgedItems(queued, judge.url, 3);
      for (let waited = 0; judge.asked.length === 0; waited += 50) {
        if (waited > 60_000) throw new Error(`no worker took a job:\n${a.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      b = worker('b');
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
});
