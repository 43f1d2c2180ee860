import type { FastifyError } from 'fastify';

/** OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error the API answers with: an HTTP status and OpenAI's error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Extra response headers (`Retry-After` on 429). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get body(): ErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}

/** 400: a request that cannot be served as given, naming the parameter. */
export const invalidRequest = (
  message: string,
  param: string | null = null,
  code: string | null = null,
) => new ApiError(400, message, 'invalid_request_error', param, code);

/** An ajv instance path (`/messages/0/role`) as OpenAI names parameters (`messages[0].role`). */
function paramOf(instancePath: string, child?: string): string | null {
  const parts = [...instancePath.split('/').filter(Boolean), ...(child ? [child] : [])];
  if (!parts.length) return null;
  return parts.reduce(
    (path, p) => (/^\d+$/.test(p) ? `${path}[${p}]` : path ? `${path}.${p}` : p),
    '',
  );
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: { missingProperty?: string; additionalProperty?: string };
}

/**
 * The API error for an error fastify raised before a handler ran: schema validation (400, naming
 * the parameter), a body that is not JSON (400), too large (413) or of another media type
 * (415), or an unknown route (404). Anything else is a 500 whose message reveals nothing.
 */
export function apiErrorOf(error: FastifyError): ApiError {
  if (error instanceof ApiError) return error;
  const validation = error.validation as AjvError[] | undefined;
  if (validation?.length) {
    const e = validation[0]!;
    if (e.keyword === 'additionalProperties') {
      const param = paramOf(e.instancePath, e.params.additionalProperty);
      return invalidRequest(`Unrecognized request argument supplied: ${param}`, param);
    }
    if (e.keyword === 'required') {
      const param = paramOf(e.instancePath, e.params.missingProperty);
      return invalidRequest(`Missing required parameter: '${param}'.`, param);
    }
    const param = paramOf(e.instancePath);
    return invalidRequest(
      `Invalid value for '${param ?? 'body'}': ${e.message ?? 'invalid'}.`,
      param,
    );
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidRequest(
        'We could not parse the JSON body of your request. The body must be a JSON object.',
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(
        413,
        'The request body is too large.',
        'invalid_request_error',
        null,
        'request_too_large',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(
        415,
        'The request body must be JSON (Content-Type: application/json).',
        'invalid_request_error',
      );
  }
  if (error.statusCode === 400) return invalidRequest(error.message);
  return new ApiError(
    500,
    'The server had an error while processing your request.',
    'server_error',
  );
}

/** 404 for a path the API does not have. */
export const notFound = (method: string, url: string) =>
  new ApiError(
    404,
    `Invalid URL (${method} ${url.split('?')[0]})`,
    'invalid_request_error',
    null,
    'unknown_url',
  );
