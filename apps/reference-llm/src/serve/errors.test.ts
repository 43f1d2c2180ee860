import type { FastifyError } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ApiError, apiErrorOf, invalidRequest, notFound } from './errors.js';

const fastifyError = (fields: Partial<FastifyError> & Record<string, unknown>) =>
  Object.assign(new Error(String(fields.message ?? 'x')), fields) as FastifyError;

describe('apiErrorOf', () => {
  it('names the parameter of a schema error as OpenAI does', () => {
    const validation = (
      keyword: string,
      instancePath: string,
      params = {},
      message = 'must be number',
    ) =>
      apiErrorOf(
        fastifyError({ validation: [{ keyword, instancePath, params, message }] as never }),
      );
    expect(validation('type', '/temperature').body).toEqual({
      error: {
        message: "Invalid value for 'temperature': must be number.",
        type: 'invalid_request_error',
        param: 'temperature',
        code: null,
      },
    });
    expect(validation('enum', '/messages/2/role').param).toBe('messages[2].role');
    expect(validation('required', '', { missingProperty: 'model' }).message).toBe(
      "Missing required parameter: 'model'.",
    );
    expect(
      validation('additionalProperties', '/stream_options', { additionalProperty: 'x' }).param,
    ).toBe('stream_options.x');
  });

  it('maps body errors to 400, 413 and 415, and hides the message of anything else behind a 500', () => {
    expect(apiErrorOf(fastifyError({ code: 'FST_ERR_CTP_INVALID_JSON_BODY' })).status).toBe(400);
    expect(apiErrorOf(fastifyError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' }))).toMatchObject({
      status: 413,
      code: 'request_too_large',
    });
    expect(apiErrorOf(fastifyError({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' })).status).toBe(415);
    const internal = apiErrorOf(fastifyError({ message: 'secret path /home/x leaked' }));
    expect(internal.status).toBe(500);
    expect(internal.message).not.toMatch(/secret/);
    const mine = invalidRequest('bad n', 'n', 'too_many');
    expect(apiErrorOf(mine as unknown as FastifyError)).toBe(mine);
    expect(notFound('GET', '/v2/x?y=1').body.error).toMatchObject({
      message: 'Invalid URL (GET /v2/x)',
      code: 'unknown_url',
    });
    expect(
      new ApiError(429, 'busy', 'rate_limit_error', null, null, { 'retry-after': '1' }).headers,
    ).toEqual({
      'retry-after': '1',
    });
  });
});
