import { existsSync, readFileSync } from 'node:fs';
import type { Device } from '@tessera/tensor-webgpu';
import { ServerMetrics } from './metrics.js';
import { loadServedModel, parseModelSpec, type ServedModel } from './models.js';
import { createServer } from './server.js';

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

/** `serve`'s settings; the command's flags, and their defaults. */
export interface ServeSettings {
  /** Run folders as DIR or NAME=DIR (`parseModelSpec`). */
  model: readonly string[];
  host: string;
  /** 0 picks a free port. */
  port: number;
  apiKey?: string;
  maxBatch: number;
  /** MiB the KV cache of each model may take; default as many rows as `maxBatch`. */
  kvCacheMb?: number;
  maxQueue: number;
  prefillChunk: number;
  maxN: number;
  /** A request's time limit, seconds. */
  timeout: number;
  maxBodyKb: number;
  log: boolean;
}

/** The defaults of `serve`'s flags (also what the pipeline's `serve` stage uses). */
export const SERVE_DEFAULTS = {
  model: ['runs/tiny'],
  host: '127.0.0.1',
  port: 8000,
  maxBatch: 16,
  maxQueue: 64,
  prefillChunk: 128,
  maxN: 8,
  timeout: 120,
  maxBodyKb: 1024,
  log: false,
} as const satisfies ServeSettings;

/**
 * Loads the models and starts the OpenAI-compatible server on `device`: what `reference-llm
 * serve` runs, and the pipeline's `serve` stage. Returns its URL, a line per model (its folder,
 * step, chat format, rows and KV cache) and `close()`, which stops the server and the engines.
 */
export async function startServing(
  o: ServeSettings,
  device: Device,
): Promise<{ url: string; lines: string[]; close: () => Promise<void> }> {
  if (!LOOPBACK.has(o.host))
    console.warn(
      `reference-llm serve: listening on ${o.host}, reachable from other machines${o.apiKey ? '' : ' with no --api-key'}`,
    );
  const metrics = new ServerMetrics();
  const models: ServedModel[] = [];
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
    logger: o.log,
  });
  const url = await app.listen({ host: o.host, port: o.port });
  const lines = models.map((m) => {
    const s = m.engine.stats();
    return `${m.name}: ${m.dir} (step ${m.step}, ${m.format.name} chat format), ${s.rows} rows of ${m.engine.maxLength} positions, KV cache ${(s.kvBytes / 2 ** 20).toFixed(2)} MiB`;
  });
  lines.push(`serving on ${url} (chat page at ${url}/, training page at ${url}/train)`);
  return {
    url,
    lines,
    close: async () => {
      await app.close();
      for (const m of models) await m.engine.close();
    },
  };
}

/** Resolves on the first Ctrl-C (SIGINT) or SIGTERM: a server's life. */
export function untilStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
