import type { FastifyReply } from 'fastify';
import type { ChoiceResult } from './choice.js';
import type { ServedModel } from './models.js';
import { failureOf, responseId } from './request.js';
import { type DeltaSink, startRun } from './run.js';
import type { ServerContext } from './server.js';
import { EventStream } from './sse.js';

/** What the generation routes share around a run: the response head, whole and streamed answers. */

type Specs = Parameters<typeof startRun>[1];

/** The fields a response and each of its chunks start with: id, creation time, model, fingerprint. */
export function responseHead(prefix: 'chatcmpl' | 'cmpl', model: ServedModel, ctx: ServerContext) {
  return {
    id: responseId(prefix),
    created: Math.floor(Date.now() / 1000),
    model: model.name,
    system_fingerprint: ctx.fingerprint(model),
  };
}

/**
 * A streamed response's chunk builder: the head, `object`, the choices, and `usage: null` on every
 * chunk when the client asked for usage (`stream_options.include_usage`), as OpenAI sends it.
 */
export function chunkMaker(head: object, object: string, includeUsage: boolean) {
  return (choices: unknown[], extra: object = {}) => ({
    ...head,
    object,
    choices,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
}

/**
 * Runs a request's choices for a whole (non-streamed) response, cancelling them if the client
 * goes away. Throws the request's `ApiError` when a choice did not finish (408, 499, 500).
 */
export async function wholeResults(
  model: ServedModel,
  specs: Specs,
  reply: FastifyReply,
  ctx: ServerContext,
  arrived: number,
): Promise<ChoiceResult[]> {
  const run = startRun(model, specs, { arrived, timeoutMs: ctx.timeoutMs, metrics: ctx.metrics });
  reply.raw.on('close', () => {
    if (!reply.raw.writableEnded) run.cancel();
  });
  const results = await run.results;
  const failure = failureOf(results, ctx.timeoutMs);
  if (failure) throw failure;
  return results;
}

/**
 * Runs a request's choices for a streamed response: opens the event stream (counted as a 200 on
 * `route`), sends `opening`'s chunks, then each piece of text through `onDelta` as it comes.
 * Resolves with the stream and the results, for the route to send the last chunks and end it;
 * or, when a choice did not finish, sends the error event, ends the stream and resolves
 * undefined. A request refused before it starts (400, 429) throws before the stream opens.
 */
export async function streamedResults(o: {
  model: ServedModel;
  specs: Specs;
  reply: FastifyReply;
  ctx: ServerContext;
  arrived: number;
  route: string;
  onDelta: (stream: EventStream, ...delta: Parameters<DeltaSink>) => void;
  opening?: (stream: EventStream) => void;
}): Promise<{ stream: EventStream; results: ChoiceResult[] } | undefined> {
  const run = startRun(o.model, o.specs, {
    arrived: o.arrived,
    timeoutMs: o.ctx.timeoutMs,
    metrics: o.ctx.metrics,
    onDelta: (...delta) => o.onDelta(stream, ...delta),
  });
  // Tokens arrive from the engine's next step at the earliest: the stream exists by then.
  const stream = new EventStream(o.reply);
  stream.onClose(() => run.cancel());
  o.ctx.metrics.requests.inc({ route: o.route, status: 200 });
  o.opening?.(stream);
  const results = await run.results;
  const failure = failureOf(results, o.ctx.timeoutMs);
  if (!failure) return { stream, results };
  stream.send(failure.body);
  stream.end({ done: false });
  return undefined;
}
