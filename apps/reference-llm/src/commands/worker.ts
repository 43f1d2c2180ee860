import { Command, Option } from '@commander-js/extra-typings';
import { createDevice } from '@tessera/tensor-webgpu';
import { backendOption, integer } from '../command-options.js';
import { QUEUE_NAME, startWorker } from '../queue/bullmq.js';
import { localCalls, type ModelCall } from '../queue/calls.js';

/** A call in a few words, for the worker's log line. */
const describe = (call: ModelCall) =>
  call.kind === 'judge' ? `judge ${call.model} at ${call.url}` : `${call.kind} ${call.checkpoint}`;

export const workerCommand = () =>
  new Command('worker')
    .summary(
      'runs the model and judge calls of `eval --queue` from a BullMQ queue on Redis, until Ctrl-C or SIGTERM',
    )
    .description(
      `Takes jobs from the BullMQ queue "${QUEUE_NAME}" at --queue: each one call of an evaluation (a log-likelihood or a greedy generation of a checkpoint, or a judge request to an OpenAI-compatible endpoint), run as in-process evaluation runs it. Checkpoints are read from the paths the jobs name, so every worker must see the run folders at the same paths (one machine, or a shared file system). Model calls run one at a time on the device; up to --concurrency jobs are held at once. A job that throws is retried by the queue; a worker that dies holding a job loses it to another worker after --lock-duration. Start as many workers as you like, on any machine that reaches the Redis server.`,
    )
    .requiredOption('--queue <url>', 'the Redis server of the queue, redis://HOST:PORT')
    .addOption(
      new Option('--concurrency <n>', 'jobs this worker holds at once')
        .argParser(integer(1))
        .default(1),
    )
    .addOption(
      new Option(
        '--lock-duration <ms>',
        "how long a job's lock lasts without renewal: after a worker dies, its jobs wait this long before another worker takes them",
      )
        .argParser(integer(100))
        .default(30_000),
    )
    .option('--log', 'a line per finished job on standard output')
    .addOption(backendOption())
    .action(async (o) => {
      const device = await createDevice({ backend: o.backend });
      const calls = localCalls(device);
      const worker = await startWorker(o.queue, calls, {
        concurrency: o.concurrency,
        lockDurationMs: o.lockDuration,
        onJob: o.log
          ? (call, error) =>
              console.log(`${describe(call)}: ${error ? `failed (${error.message})` : 'done'}`)
          : undefined,
      });
      console.log(
        `worker on ${o.queue} (queue ${QUEUE_NAME}), ${o.concurrency} job${o.concurrency === 1 ? '' : 's'} at once, ${device.info.adapter}`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      await worker.close();
      await calls.close();
      device.destroy();
    });
