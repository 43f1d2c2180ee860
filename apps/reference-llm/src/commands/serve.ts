import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from '@commander-js/extra-typings';
import { createDevice } from '@tessera/tensor-webgpu';
import { backendOption, integer, numberIn } from '../command-options.js';
import { ServerMetrics } from '../serve/metrics.js';
import { loadServedModel, parseModelSpec } from '../serve/models.js';
import { createServer } from '../serve/server.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** A web page's bundle, built next to the CLI (`dist/web/<name>.js`), if it is there. */
function webBundle(name: string): string | undefined {
  const path = new URL(`./web/${name}.js`, import.meta.url);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** The training page's two bundles, when both are built. */
function trainScripts(): { page: string; worker: string } | undefined {
  const page = webBundle('train');
  const worker = webBundle('train-worker');
  return page && worker ? { page, worker } : undefined;
}

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
      ).default(['runs/tiny']),
    )
    .option(
      '--host <address>',
      'address to listen on (anything but loopback is reachable from the network)',
      '127.0.0.1',
    )
    .addOption(
      new Option('--port <n>', 'port (0 picks a free one)').argParser(integer(0)).default(8000),
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
        .default(16),
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
        .default(64),
    )
    .addOption(
      new Option('--prefill-chunk <n>', 'prompt tokens a sequence runs per step (chunked prefill)')
        .argParser(integer(1))
        .default(128),
    )
    .addOption(
      new Option('--max-n <n>', 'largest n (choices per request)').argParser(integer(1)).default(8),
    )
    .addOption(
      new Option('--timeout <s>', "a request's time limit in seconds")
        .argParser(numberIn({ above: 0 }))
        .default(120),
    )
    .addOption(
      new Option('--max-body-kb <kb>', 'largest request body').argParser(integer(1)).default(1024),
    )
    .option('--log', 'log every request (JSON lines on standard output)')
    .addOption(backendOption())
    .action(async (o) => {
      if (!LOOPBACK.has(o.host))
        console.warn(
          `reference-llm serve: listening on ${o.host}, reachable from other machines${o.apiKey ? '' : ' with no --api-key'}`,
        );
      const device = await createDevice({ backend: o.backend });
      const metrics = new ServerMetrics();
      const models = [];
      for (const spec of o.model.map(parseModelSpec)) {
        models.push(
          await loadServedModel(spec, device, {
            maxBatch: o.maxBatch,
            kvBudgetBytes: o.kvCacheMb === undefined ? undefined : o.kvCacheMb * 2 ** 20,
            maxQueue: o.maxQueue,
            prefillChunk: o.prefillChunk,
            onStep: metrics.stepObserver(spec.name),
          }),
        );
      }
      const app = createServer({
        models,
        metrics,
        apiKey: o.apiKey,
        bodyLimit: o.maxBodyKb * 1024,
        maxN: o.maxN,
        timeoutMs: o.timeout * 1000,
        pageScript: webBundle('chat'),
        trainScripts: trainScripts(),
        logger: o.log === true,
      });
      const url = await app.listen({ host: o.host, port: o.port });
      for (const m of models) {
        const s = m.engine.stats();
        console.log(
          `${m.name}: ${m.dir} (step ${m.step}, ${m.format.name} chat format), ${s.rows} rows of ${m.engine.maxLength} positions, KV cache ${(s.kvBytes / 2 ** 20).toFixed(2)} MiB`,
        );
      }
      console.log(`serving on ${url} (chat page at ${url}/, training page at ${url}/train)`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await app.close();
      for (const m of models) await m.engine.close();
      device.destroy();
    });
