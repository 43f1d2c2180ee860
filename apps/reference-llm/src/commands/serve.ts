import { Command, Option } from '@commander-js/extra-typings';
import { createDevice } from '@tessera/tensor-webgpu';
import { backendOption, integer, numberIn } from '../command-options.js';
import { SERVE_DEFAULTS, startServing, untilStopSignal } from '../serve/start.js';

export const serveCommand = () =>
  new Command('serve')
    .summary(
      'an OpenAI-compatible server (chat, completions, tool calls, streaming) with continuous batching, metrics and a chat page',
    )
    .description(
      'Serves run folders over HTTP with the OpenAI API: POST /v1/chat/completions and /v1/completions (streaming with stream: true), GET /v1/models, /health, /metrics (Prometheus), a chat page at / and a page that trains the tiny GPT in the browser at /train. All requests to a model share one decode batch (continuous batching, chunked prefill); requests beyond --max-queue get 429. Binds to 127.0.0.1 unless --host says otherwise. Stops on Ctrl-C or SIGTERM.',
    )
    .addOption(
      new Option(
        '--model <spec...>',
        'run folders to serve, as DIR (named after the folder) or NAME=DIR; repeatable',
      ).default(SERVE_DEFAULTS.model),
    )
    .option(
      '--host <address>',
      'address to listen on (anything but loopback is reachable from the network)',
      SERVE_DEFAULTS.host,
    )
    .addOption(
      new Option('--port <n>', 'port (0 picks a free one)')
        .argParser(integer(0))
        .default(SERVE_DEFAULTS.port),
    )
    .addOption(
      new Option(
        '--api-key <key>',
        'require Authorization: Bearer <key> on /v1 and /metrics (or set TESSERA_API_KEY)',
      ).env('TESSERA_API_KEY'),
    )
    .addOption(
      new Option('--max-batch <n>', 'sequences decoded together at most (rows of the KV cache)')
        .argParser(integer(1))
        .default(SERVE_DEFAULTS.maxBatch),
    )
    .addOption(
      new Option(
        '--kv-cache-mb <mb>',
        'memory the KV cache of each model may take; fewer rows if it is small',
      ).argParser(numberIn({ above: 0 })),
    )
    .addOption(
      new Option('--max-queue <n>', 'requests that may wait for a row; more get 429')
        .argParser(integer(0))
        .default(SERVE_DEFAULTS.maxQueue),
    )
    .addOption(
      new Option('--prefill-chunk <n>', 'prompt tokens a sequence runs per step (chunked prefill)')
        .argParser(integer(1))
        .default(SERVE_DEFAULTS.prefillChunk),
    )
    .addOption(
      new Option('--max-n <n>', 'largest n (choices per request)')
        .argParser(integer(1))
        .default(SERVE_DEFAULTS.maxN),
    )
    .addOption(
      new Option('--timeout <s>', "a request's time limit in seconds")
        .argParser(numberIn({ above: 0 }))
        .default(SERVE_DEFAULTS.timeout),
    )
    .addOption(
      new Option('--max-body-kb <kb>', 'largest request body')
        .argParser(integer(1))
        .default(SERVE_DEFAULTS.maxBodyKb),
    )
    .option('--log', 'log every request (JSON lines on standard output)')
    .addOption(backendOption())
    .action(async (o) => {
      const device = await createDevice({ backend: o.backend });
      const server = await startServing({ ...o, log: o.log === true }, device);
      for (const line of server.lines) console.log(line);
      await untilStopSignal();
      await server.close();
      device.destroy();
    });
