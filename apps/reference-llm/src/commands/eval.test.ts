import { testDevices } from '@tessera/tensor-webgpu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCheckpoint } from '../evaluate.js';
import { startWorker } from '../queue/bullmq.js';
import { localCalls } from '../queue/calls.js';
import { readCheckpoint } from '../run-folder.js';
import { microRun, overflowingCopy } from '../test-utils/checkpoints.js';
import { runCommand } from '../test-utils/commands.js';
import { data, textFile } from '../test-utils/fixtures.js';
import { stubJudge } from '../test-utils/judge-endpoint.js';
import { emptyQueue, queueCounts, startRedis } from '../test-utils/redis.js';
import { evalCommand } from './eval.js';

const { cpu } = await testDevices();
const dir = await microRun(cpu);
const other = await microRun(cpu, 4);

let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('eval, the command', () => {
  it("scores the text the run trained on by default and prints evaluateCheckpoint's figures", async () => {
    expect(readCheckpoint(dir).state).toMatchObject({ data: { path: data } });
    const out = await runCommand(evalCommand, ['--checkpoint', dir, '--backend', 'cpu']);
    const r = await evaluateCheckpoint(dir, { data, device: cpu });
    expect(out).toBe(
      `validation: ${r.tokens} tokens, ${r.meanNll.toFixed(4)} nats/token, perplexity ${r.perplexity.toFixed(2)}, ${r.bitsPerByte.toFixed(3)} bits/byte\n`,
    );
    expect(r.bitsPerByte).toBeGreaterThan(0);
  });

  it('refuses a text too short, naming the file, and logits that are not finite', async () => {
    const five = textFile('five.');
    await expect(
      runCommand(evalCommand, ['--checkpoint', dir, '--data', five, '--backend', 'cpu']),
    ).rejects.toThrow(`eval --data ${five}: the validation split has 1 tokens`);
    const overflowing = await overflowingCopy(dir);
    await expect(
      runCommand(evalCommand, ['--checkpoint', overflowing, '--backend', 'cpu']),
    ).rejects.toThrow(
      `${overflowing}: the model produced non-finite logits (the checkpoint's weights overflow?): the log-likelihood of the validation window at token 0 is NaN`,
    );
  });

  it('--tasks and --judge-url over --queue print exactly what the in-process run prints', async () => {
    await emptyQueue(redis.url);
    const judge = await stubJudge();
    const args = [
      '--checkpoint',
      dir,
      '--tasks',
      '--limit',
      '3',
      '--fewshot',
      '1',
      '--backend',
      'cpu',
    ];
    const judging = ['--judge-url', judge.url, '--against', other];
    try {
      const inProcess = await runCommand(evalCommand, [...args, ...judging]);
      expect(inProcess).toMatch(/\| arithmetic \| 1 \| 3 \| score \|/);
      expect(inProcess).toMatch(/\| knowledge-quiz \| 1 \| 3 \| acc_norm \|/);
      expect(inProcess).toContain(`judge stub at ${judge.url}: ${dir} vs ${other}: `);
      expect(judge.asked).toHaveLength(6);
      const workers = [
        await startWorker(redis.url, localCalls(cpu), { concurrency: 2 }),
        await startWorker(redis.url, localCalls(cpu), { concurrency: 3 }),
      ];
      try {
        const queued = await runCommand(evalCommand, [...args, ...judging, '--queue', redis.url]);
        expect(queued).toBe(inProcess);
      } finally {
        for (const w of workers) await w.close();
      }
      // 3 generations + 3 × 4 quiz log-likelihoods + 3 generations of --against (the first
      // checkpoint's were the arithmetic task's: the same jobs) + 6 judge calls.
      expect(await queueCounts(redis.url)).toEqual({ completed: 3 + 12 + 3 + 6, failed: 0 });
    } finally {
      await judge.close();
    }
  });

  it('refuses --queue without calls to run and --judge-url without --against, naming the flags', async () => {
    await expect(
      runCommand(evalCommand, ['--checkpoint', dir, '--queue', redis.url, '--backend', 'cpu']),
    ).rejects.toThrow(
      `--queue ${redis.url}: the queue runs the calls of --tasks and --judge-url; give one of them`,
    );
    await expect(
      runCommand(evalCommand, ['--checkpoint', dir, '--judge-url', 'http://127.0.0.1:1']),
    ).rejects.toThrow('--judge-url: give --against DIR, the checkpoint the judge compares with');
  });
});
