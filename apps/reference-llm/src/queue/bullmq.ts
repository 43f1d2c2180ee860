import { randomUUID } from 'node:crypto';
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type CallResult, type Calls, callId, type ModelCall } from './calls.js';

/** The queue every `eval --queue` coordinator fills and every `reference-llm worker` drains. */
export const QUEUE_NAME = 'tessera-eval';

/** How long a coordinator or a worker waits for Redis to answer at the start, ms. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * BullMQ's connection options for a `--queue` URL.
 *
 * @throws Error - naming `--queue`: a URL that is not `redis://HOST:PORT` (or `rediss://`)
 */
export function redisConnection(url: string): { url: string; maxRetriesPerRequest: null } {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {}
  if (!parsed || !['redis:', 'rediss:'].includes(parsed.protocol) || parsed.hostname === '')
    throw new Error(`--queue: expected a Redis URL such as redis://127.0.0.1:6379, got ${url}`);
  // Workers block on Redis for jobs: BullMQ wants commands retried rather than failed.
  return { url, maxRetriesPerRequest: null };
}

/**
 * Checks that a Redis server answers at `url`, once, without retrying (BullMQ's own connections
 * retry for ever, which is right for a worker that waits out a restart, not for a typo).
 *
 * @throws Error - naming `--queue` and the URL: nothing answered within `CONNECT_TIMEOUT_MS`
 */
async function checkReachable(url: string): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  // The socket's error says why; the rejected connect only that the connection closed.
  let cause: Error | undefined;
  probe.on('error', (e: Error) => {
    cause ??= e;
  });
  try {
    await probe.connect();
    await probe.ping();
  } catch (e) {
    throw new Error(`--queue: no Redis answered at ${url} (${(cause ?? (e as Error)).message})`);
  } finally {
    probe.disconnect();
  }
}

export interface QueueCallsOptions {
  /** Tries of each job before its call fails (default 3). */
  attempts?: number;
  /** Wait before the first retry, ms, doubling after each (default 1000). */
  backoffMs?: number;
}

/**
 * Runs calls on the BullMQ queue at `url` (`QUEUE_NAME`), on whatever `reference-llm worker`s
 * drain it: each distinct call is one job, identified by this coordinator's run and the call's
 * `callId`, so a call asked twice is queued once and its result counted once. A job that throws
 * is retried (`attempts`, exponential backoff from `backoffMs`); a job whose worker died is
 * taken back by BullMQ's stalled-job check and run by another worker. A call rejects only when
 * its job failed every attempt, with the worker's error.
 *
 * @throws Error - naming `--queue`: a malformed URL, or no Redis answering there
 */
export async function queueCalls(url: string, o: QueueCallsOptions = {}): Promise<Calls> {
  const connection = redisConnection(url);
  await checkReachable(url);
  const queue = new Queue(QUEUE_NAME, { connection });
  // Each call waiting for its job listens for the queue's closing (BullMQ's waitUntilFinished):
  // as many listeners as calls in flight, which is no leak.
  queue.setMaxListeners(0);
  const events = new QueueEvents(QUEUE_NAME, { connection });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const run = randomUUID();
  const results = new Map<string, Promise<CallResult>>();
  return {
    run(call: ModelCall) {
      const id = callId(call);
      let result = results.get(id);
      if (!result) {
        result = queue
          .add('call', call, {
            jobId: `${run}-${id}`,
            attempts: o.attempts ?? 3,
            backoff: { type: 'exponential', delay: o.backoffMs ?? 1000 },
            removeOnComplete: { age: 3600 },
            removeOnFail: { age: 24 * 3600 },
          })
          .then((job) => job.waitUntilFinished(events) as Promise<CallResult>);
        results.set(id, result);
      }
      return result;
    },
    async close() {
      await events.close();
      await queue.close();
    },
  };
}

export interface WorkerOptions {
  /** Jobs this worker runs at once (default 1). */
  concurrency?: number;
  /**
   * How long a job's lock lasts without renewal, ms (default 30000, BullMQ's): a worker renews it
   * while it works; one that dies leaves the job locked this long, then the stalled-job check
   * (run as often) hands it to another worker.
   */
  lockDurationMs?: number;
  /** Called when a job ends: its call, and the error if it threw (to be retried). */
  onJob?: (call: ModelCall, error?: Error) => void;
  /** Called on a connection error (the worker reconnects by itself); default standard error. */
  onError?: (error: Error) => void;
}

/**
 * A BullMQ worker on the queue at `url` that runs each job's call with `calls` (`localCalls`:
 * the checkpoints are read from the folders the calls name, so every worker must see them at the
 * same paths). Resolves once it is connected; `close()` lets the jobs it holds finish first.
 *
 * @throws Error - naming `--queue`: a malformed URL, or no Redis answering there
 */
export async function startWorker(
  url: string,
  calls: Calls,
  o: WorkerOptions = {},
): Promise<{ close: () => Promise<void> }> {
  const connection = redisConnection(url);
  await checkReachable(url);
  const lockDuration = o.lockDurationMs ?? 30_000;
  const worker = new Worker<ModelCall, CallResult>(
    QUEUE_NAME,
    async (job: Job<ModelCall>) => {
      try {
        const result = await calls.run(job.data);
        o.onJob?.(job.data);
        return result;
      } catch (e) {
        o.onJob?.(job.data, e as Error);
        throw e;
      }
    },
    {
      connection,
      concurrency: o.concurrency ?? 1,
      lockDuration,
      stalledInterval: lockDuration,
    },
  );
  worker.on('error', o.onError ?? ((e) => process.stderr.write(`worker: ${e.message}\n`)));
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}
