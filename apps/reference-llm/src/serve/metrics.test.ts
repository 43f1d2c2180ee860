import { describe, expect, it } from 'vitest';
import { ServerMetrics } from './metrics.js';

describe('ServerMetrics', () => {
  it('exports steps, latencies and each engine’s queue, rows and KV use in Prometheus text', async () => {
    const m = new ServerMetrics();
    m.watch('tiny', () => ({
      queued: 3,
      active: 2,
      rows: 4,
      kvPositions: 64,
      kvCapacity: 256,
      kvBytes: 4096,
    }));
    const step = m.stepObserver('tiny');
    step(2, 500);
    step(4, 250);
    m.timeToFirstToken.observe({ model: 'tiny' }, 0.2);
    m.requests.inc({ route: '/v1/completions', status: 200 });
    const text = await m.registry.metrics();
    expect(m.registry.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const line of [
      'tessera_queue_depth{model="tiny"} 3',
      'tessera_running_sequences{model="tiny"} 2',
      'tessera_batch_rows{model="tiny"} 4',
      'tessera_kv_cache_usage_ratio{model="tiny"} 0.25',
      'tessera_kv_cache_bytes{model="tiny"} 4096',
      'tessera_batch_size_bucket{le="2",model="tiny"} 1',
      'tessera_batch_size_bucket{le="4",model="tiny"} 2',
      'tessera_batch_size_sum{model="tiny"} 6',
      'tessera_step_duration_seconds_sum{model="tiny"} 0.75',
      'tessera_time_to_first_token_seconds_bucket{le="0.25",model="tiny"} 1',
      'tessera_requests_total{route="/v1/completions",status="200"} 1',
    ])
      expect(text).toContain(`${line}\n`);
  });
});
