import type { Device } from '@tessera/tensor-webgpu';
import { pretrain } from '../pretrain.js';
import type { EngineOptions } from '../serve/engine.js';
import { ServerMetrics } from '../serve/metrics.js';
import { loadServedModel, type ServedModel } from '../serve/models.js';
import { createServer, type ServerOptions } from '../serve/server.js';
import { data, micro, tempDir } from './fixtures.js';

/** The micro model with a window of `window` positions (1024: long enough for chats with tools). */
export const microServe = (window = 1024) => ({
  ...micro,
  name: 'micro-serve',
  model: { ...micro.model, maxSeqLen: window },
});

const runs = new Map<string, Promise<string>>();

/** A run folder of the micro model after two steps of pretraining (made once per device and window). */
export function microRun(device: Device, window = 1024): Promise<string> {
  const key = `${device.info.backend}:${window}`;
  let run = runs.get(key);
  if (!run) {
    const out = tempDir();
    run = pretrain({
      preset: microServe(window),
      out,
      steps: 2,
      data,
      device,
      sink: { write: () => {} },
    }).then(() => out);
    runs.set(key, run);
  }
  return run;
}

/** The engine settings of the tests: small batches, prompts in chunks of 64. */
export const testEngine: EngineOptions = { maxBatch: 4, maxQueue: 8, prefillChunk: 64 };

/** The micro run served as `name`. */
export async function servedMicro(
  device: Device,
  engine: Partial<EngineOptions> = {},
  name = 'micro',
): Promise<ServedModel> {
  return loadServedModel({ name, dir: await microRun(device) }, device, {
    ...testEngine,
    ...engine,
  });
}

/** A listening server (on a free loopback port) of `models`; `close` stops it and the engines. */
export async function listen(
  models: ServedModel[],
  options: Partial<ServerOptions> = {},
): Promise<{ url: string; metrics: ServerMetrics; close: () => Promise<void> }> {
  const metrics = options.metrics ?? new ServerMetrics();
  const app = createServer({ models, metrics, ...options });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    metrics,
    close: async () => {
      await app.close();
      for (const m of models) await m.engine.close();
    },
  };
}
