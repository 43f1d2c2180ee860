import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { chatRoute } from './chat-route.js';
import { completionsRoute } from './completions-route.js';
import { ApiError, apiErrorOf, notFound } from './errors.js';
import type { ServerMetrics } from './metrics.js';
import type { ServedModel } from './models.js';
import { chatPageHtml } from './page.js';
import { TRAIN_PAGE_HEADERS, trainPageHtml } from './train-page.js';

/** Options of `createServer`. */
export interface ServerOptions {
  models: readonly ServedModel[];
  metrics: ServerMetrics;
  /** Requests to `/v1/*` and `/metrics` (not the pages nor `/health`) must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Largest request body in bytes (413 above it). Default 1 MiB. */
  bodyLimit?: number;
  /** Largest `n` (choices per request). Default 8. */
  maxN?: number;
  /** A request's time limit in milliseconds (408 after it). Default 120 s. */
  timeoutMs?: number;
  /** The chat page's script (the bundle of `web/chat.ts`); without it `/` says it is not built. */
  pageScript?: string;
  /** The training page's bundles (`web/train.ts`, `web/train-worker.ts`); without them `/train` says it is not built. */
  trainScripts?: { page: string; worker: string };
  /** Log requests (pino, fastify's logger) to standard output. */
  logger?: boolean;
}

/** What the routes share. */
export interface ServerContext {
  models: ReadonlyMap<string, ServedModel>;
  metrics: ServerMetrics;
  maxN: number;
  timeoutMs: number;
  /** `system_fingerprint`: the model's checkpoint. */
  fingerprint(model: ServedModel): string;
}

const PUBLIC = new Set(['/', '/train', '/health']);

/** `owned_by` of every model card `GET /v1/models` lists: it tells a client this server answers. */
export const MODEL_OWNER = 'tessera';

/**
 * A model's card in `GET /v1/models`: OpenAI's fields (`owned_by` is `MODEL_OWNER`) and, for a
 * model loaded from a run folder, `weights_sha256`: its checkpoint's weights' SHA-256, which
 * names the checkpoint without revealing where it lies.
 */
export const modelCard = (m: ServedModel) => ({
  id: m.name,
  object: 'model',
  created: m.created,
  owned_by: MODEL_OWNER,
  ...(m.weights === undefined ? {} : { weights_sha256: m.weights }),
});

/**
 * The OpenAI-compatible server, on fastify: request bodies validated against JSON Schemas
 * (`schemas.ts`; no type coercion, unknown parameters refused), every error in OpenAI's error
 * body, optional bearer-token auth, a body size limit, Prometheus metrics, and the chat page.
 */
export function createServer(o: ServerOptions): FastifyInstance {
  const app = Fastify({
    logger: o.logger ?? false,
    bodyLimit: o.bodyLimit ?? 2 ** 20,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
  });
  // Bodies are JSON only: a text/plain body is a 415, not a string that fails the schema.
  app.removeContentTypeParser('text/plain');
  const ctx: ServerContext = {
    models: new Map(o.models.map((m) => [m.name, m])),
    metrics: o.metrics,
    maxN: o.maxN ?? 8,
    timeoutMs: o.timeoutMs ?? 120_000,
    fingerprint: (m) => `tessera-${m.name}-step${m.step}`,
  };
  for (const m of o.models) o.metrics.watch(m.name, () => m.engine.stats());

  if (o.apiKey) {
    const key = Buffer.from(o.apiKey);
    app.addHook('onRequest', async (request) => {
      if (PUBLIC.has(request.url.split('?')[0]!)) return;
      const given = Buffer.from(
        /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '',
      );
      if (given.length !== key.length || !timingSafeEqual(given, key))
        throw new ApiError(
          401,
          'Incorrect API key provided. Pass it as the header Authorization: Bearer <key>.',
          'invalid_request_error',
          null,
          'invalid_api_key',
        );
    });
  }
  app.addHook('onResponse', async (request, reply) => {
    o.metrics.requests.inc({
      route: request.routeOptions.url ?? 'unmatched',
      status: reply.statusCode,
    });
  });
  app.setErrorHandler(async (error, request, reply) => {
    const e = apiErrorOf(error as FastifyError);
    if (e.status >= 500) request.log.error(error);
    return reply.code(e.status).headers(e.headers).send(e.body);
  });
  app.setNotFoundHandler(async (request, reply) => {
    const e = notFound(request.method, request.url);
    return reply.code(e.status).send(e.body);
  });

  app.get('/health', async () => ({ status: 'ok', models: [...ctx.models.keys()] }));
  app.get('/v1/models', async () => ({ object: 'list', data: o.models.map(modelCard) }));
  app.get<{ Params: { model: string } }>('/v1/models/:model', async (request) => {
    const m = ctx.models.get(request.params.model);
    if (!m)
      throw new ApiError(
        404,
        `The model '${request.params.model}' does not exist`,
        'invalid_request_error',
        'model',
        'model_not_found',
      );
    return modelCard(m);
  });
  app.get('/metrics', async (_, reply) =>
    reply.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics()),
  );
  app.get('/', async (_, reply) =>
    reply.type('text/html; charset=utf-8').send(chatPageHtml(o.pageScript)),
  );
  app.get('/train', async (_, reply) =>
    reply
      .headers(TRAIN_PAGE_HEADERS)
      .type('text/html; charset=utf-8')
      .send(trainPageHtml(o.trainScripts)),
  );
  chatRoute(app, ctx);
  completionsRoute(app, ctx);
  return app;
}
