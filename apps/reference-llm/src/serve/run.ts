import { type ChoiceResult, type ChoiceSpec, startChoice, type TokenInfo } from './choice.js';
import { QueueFullError } from './engine.js';
import { ApiError, invalidRequest } from './errors.js';
import { SchemaError } from './json-grammar.js';
import type { ServerMetrics } from './metrics.js';
import type { ServedModel } from './models.js';

/** A request's choices, running: their results when all end, and a way to cancel them. */
export interface Run {
  results: Promise<ChoiceResult[]>;
  /** Ends every choice now (the client went away); their rows are freed at once. */
  cancel(): void;
}

/** Where a streaming request's output goes, choice by choice. */
export type DeltaSink = (choice: number, delta: string, tokens: TokenInfo[]) => void;

/**
 * Starts the choices of one request (`n` of them, or one per prompt) in the model's engine, with
 * a deadline `timeoutMs` after the request `arrived` (a `performance.now()` time), and records
 * time to first token, inter-token latency and token counts. Throws an `ApiError` — 429 (with
 * `Retry-After`) when the queue is full, 400 when a prompt does not fit the window or a tool
 * schema cannot be constrained — after withdrawing the choices already queued.
 */
export function startRun(
  model: ServedModel,
  specs: readonly Omit<ChoiceSpec, 'signal' | 'deadline'>[],
  o: { arrived: number; timeoutMs: number; metrics: ServerMetrics; onDelta?: DeltaSink },
): Run {
  const abort = new AbortController();
  const labels = { model: model.name };
  const results: Promise<ChoiceResult>[] = [];
  specs.forEach((spec, i) => {
    let last: number | undefined;
    let resolve!: (r: ChoiceResult) => void;
    results.push(new Promise((r) => (resolve = r)));
    try {
      startChoice(
        model,
        { ...spec, signal: abort.signal, deadline: o.arrived + o.timeoutMs },
        {
          token() {
            const now = performance.now();
            if (last === undefined)
              o.metrics.timeToFirstToken.observe(labels, (now - o.arrived) / 1000);
            else o.metrics.interTokenLatency.observe(labels, (now - last) / 1000);
            last = now;
          },
          text: (delta, tokens) => o.onDelta?.(i, delta, tokens),
          end(result) {
            o.metrics.completionTokens.inc(labels, result.completionTokens);
            resolve(result);
          },
        },
      );
    } catch (e) {
      abort.abort();
      throw apiErrorOfStart(e);
    }
  });
  for (const spec of specs) o.metrics.promptTokens.inc(labels, spec.prompt.length);
  return { results: Promise.all(results), cancel: () => abort.abort() };
}

function apiErrorOfStart(e: unknown): unknown {
  if (e instanceof QueueFullError)
    return new ApiError(429, e.message, 'rate_limit_error', null, 'queue_full', {
      'retry-after': '1',
    });
  if (e instanceof SchemaError) return invalidRequest(e.message, 'tools');
  if (e instanceof RangeError)
    return invalidRequest(e.message, 'messages', 'context_length_exceeded');
  return e;
}
