import { buildPrompt, type MultipleChoiceTask, runBenchmark } from '@tessera/eval';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtInTasks } from '../task-suite.js';
import { microRun } from '../test-utils/checkpoints.js';
import { judgedItems, stubJudge } from '../test-utils/judge-endpoint.js';
import { emptyQueue, freePort, queueCounts, startRedis } from '../test-utils/redis.js';
import { queueCalls, redisConnection, startWorker } from './bullmq.js';
import {
  callChatModel,
  callLanguageModel,
  checkpointWeights,
  localCalls,
  type ModelCall,
} from './calls.js';

const { cpu } = await testDevices();
const dir = await microRun(cpu);

let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('evaluation calls on a BullMQ queue (a real redis-server)', () => {
  it('refuses a URL that is not redis://, and a Redis that does not answer, naming --queue', async () => {
    expect(() => redisConnection('http://127.0.0.1:6379')).toThrow(
      '--queue: expected a Redis URL such as redis://127.0.0.1:6379, got http://127.0.0.1:6379',
    );
    const nobody = `redis://127.0.0.1:${await freePort()}`;
    await expect(queueCalls(nobody)).rejects.toThrow(
      `--queue: no Redis answered at ${nobody} (connect ECONNREFUSED`,
    );
    await expect(startWorker(nobody, localCalls(cpu))).rejects.toThrow(
      `--queue: no Redis answered at ${nobody} (connect ECONNREFUSED`,
    );
  });

  it('benchmark items and judge calls on two workers give exactly the in-process results', async () => {
    await emptyQueue(redis.url);
    const judge = await stubJudge();
    const local = localCalls(cpu);
    const workers = [
      await startWorker(redis.url, localCalls(cpu), { concurrency: 2 }),
      await startWorker(redis.url, localCalls(cpu), { concurrency: 2 }),
    ];
    const queued = await queueCalls(redis.url);
    try {
      const options = { limit: 4, numFewshot: 1, seed: 3 };
      const inProcess = await runBenchmark(callLanguageModel(local, dir), builtInTasks(), options);
      const onQueue = await runBenchmark(callLanguageModel(queued, dir), builtInTasks(), {
        ...options,
        concurrency: 16,
      });
      expect(onQueue).toEqual(inProcess);
      // The raw numbers, not only the metrics: a log-likelihood and a generation, bit for bit.
      const quiz = builtInTasks()[1] as MultipleChoiceTask;
      const context = buildPrompt(quiz, 0, 1, 3);
      const continuation = ` ${quiz.docs[0]!.choices[0]}`;
      const weights = checkpointWeights(dir);
      const calls: ModelCall[] = [
        { kind: 'logLikelihood', checkpoint: dir, weights, context, continuation },
        {
          kind: 'generate',
          checkpoint: dir,
          weights,
          prompt: 'ROMEO:',
          maxTokens: 12,
          stop: ['\n\n'],
        },
      ];
      for (const call of calls) expect(await queued.run(call)).toBe(await local.run(call));
      expect(await judgedItems(queued, judge.url, 3)).toEqual(
        await judgedItems(local, judge.url, 1),
      );
      // Quiz items score four choices each: 4 × 4 log-likelihoods, 4 generations, 2 raw calls
      // (the generation is new; the log-likelihood is one the quiz asked: the same job, not a new
      // one), 6 judge calls.
      expect(await queueCounts(redis.url)).toEqual({ completed: 16 + 4 + 1 + 6, failed: 0 });
    } finally {
      await queued.close();
      for (const w of workers) await w.close();
      await local.close();
      await judge.close();
    }
  });

  it('retries a job that throws (attempts with backoff), and fails a call after its last attempt', async () => {
    await emptyQueue(redis.url);
    // The endpoint fails the first request with 503, then answers; a second judge always fails.
    const flaky = await stubJudge((n) => (n === 0 ? 503 : undefined));
    const down = await stubJudge(() => 500);
    const worker = await startWorker(redis.url, localCalls(cpu), { onError: () => {} });
    const queued = await queueCalls(redis.url, { attempts: 2, backoffMs: 50 });
    try {
      const plain = await stubJudge();
      const expected = await judgedItems(localCalls(cpu), plain.url, 1);
      await plain.close();
      expect(await judgedItems(queued, flaky.url, 6)).toEqual(expected);
      expect(flaky.asked).toHaveLength(7);
      const downCall = callChatModel(queued, down.url, 'stub').chat([
        { role: 'user', content: 'Answer 1: a\n\nAnswer 2: b' },
      ]);
      await expect(downCall).rejects.toThrow(
        `--judge-url: ${down.url}/v1/chat/completions answered 500`,
      );
      expect(down.asked).toHaveLength(2);
      expect(await queueCounts(redis.url)).toEqual({ completed: 6, failed: 1 });
    } finally {
      await queued.close();
      await worker.close();
      await flaky.close();
      await down.close();
    }
  });
});
