import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EngineStats } from './engine.js';

/** Latency buckets in seconds, from a fast GPU step to a CPU prefill. */
const LATENCY = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The server's Prometheus metrics (prom-client, text format at `GET /metrics`), named as vLLM
 * names its own where one exists: requests by route and status, prompt and completion tokens,
 * time to first token and inter-token latency, and per model the queue depth, the rows decoding,
 * the rows of each step and the KV cache's use.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'status'>;
  readonly promptTokens: Counter<'model'>;
  readonly completionTokens: Counter<'model'>;
  readonly timeToFirstToken: Histogram<'model'>;
  readonly interTokenLatency: Histogram<'model'>;
  readonly stepRows: Histogram<'model'>;
  readonly stepSeconds: Histogram<'model'>;
  private readonly engines = new Map<string, () => EngineStats>();

  constructor() {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'tessera_requests_total',
      help: 'HTTP requests answered, by route and status code',
      labelNames: ['route', 'status'],
      registers,
    });
    this.promptTokens = new Counter({
      name: 'tessera_prompt_tokens_total',
      help: 'Prompt tokens of admitted requests',
      labelNames: ['model'],
      registers,
    });
    this.completionTokens = new Counter({
      name: 'tessera_generation_tokens_total',
      help: 'Tokens generated',
      labelNames: ['model'],
      registers,
    });
    this.timeToFirstToken = new Histogram({
      name: 'tessera_time_to_first_token_seconds',
      help: 'Time from a request arriving to its first generated token',
      labelNames: ['model'],
      buckets: LATENCY,
      registers,
    });
    this.interTokenLatency = new Histogram({
      name: 'tessera_inter_token_latency_seconds',
      help: 'Time between consecutive tokens of a sequence',
      labelNames: ['model'],
      buckets: LATENCY,
      registers,
    });
    this.stepRows = new Histogram({
      name: 'tessera_batch_size',
      help: 'Sequences in each decode step (continuous batching)',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.stepSeconds = new Histogram({
      name: 'tessera_step_duration_seconds',
      help: 'Duration of each decode step (one forward pass per feed size, then sampling)',
      labelNames: ['model'],
      buckets: LATENCY,
      registers,
    });
    const gauge = (name: string, help: string, value: (s: EngineStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['model'],
        registers,
        collect: function (this: Gauge<'model'>) {
          for (const [model, stats] of engines) this.set({ model }, value(stats()));
        },
      });
    const engines = this.engines;
    gauge('tessera_queue_depth', 'Requests waiting for a free row', (s) => s.queued);
    gauge('tessera_running_sequences', 'Sequences decoding now', (s) => s.active);
    gauge(
      'tessera_batch_rows',
      'Rows of the KV cache (sequences decoded together at most)',
      (s) => s.rows,
    );
    gauge('tessera_kv_cache_usage_ratio', 'KV-cache positions in use over those allocated', (s) =>
      s.kvCapacity ? s.kvPositions / s.kvCapacity : 0,
    );
    gauge('tessera_kv_cache_bytes', 'Bytes the KV cache takes on the device', (s) => s.kvBytes);
  }

  /** Reports `stats` under `model` in the gauges at each scrape. */
  watch(model: string, stats: () => EngineStats): void {
    this.engines.set(model, stats);
  }

  /** An `onStep` observer for a model's engine. */
  stepObserver(model: string): (rows: number, ms: number) => void {
    return (rows, ms) => {
      this.stepRows.observe({ model }, rows);
      this.stepSeconds.observe({ model }, ms / 1000);
    };
  }
}
