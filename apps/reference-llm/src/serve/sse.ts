import type { FastifyReply } from 'fastify';

/**
 * A server-sent event stream as OpenAI streams completions: `data: <JSON>` events, ending with
 * `data: [DONE]`. The reply is taken over from fastify (hijacked), so the stream writes to the
 * socket directly; `onClose` fires if the client goes away before the end.
 */
export class EventStream {
  private ended = false;

  constructor(private readonly reply: FastifyReply) {
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
  }

  /** Calls `fn` once if the connection closes before `end`. */
  onClose(fn: () => void): void {
    this.reply.raw.on('close', () => {
      if (!this.ended) fn();
    });
  }

  send(data: unknown): void {
    if (!this.ended) this.reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends the stream, after `data: [DONE]` unless it ends with an error event. */
  end(options: { done: boolean } = { done: true }): void {
    if (this.ended) return;
    if (options.done) this.reply.raw.write('data: [DONE]\n\n');
    this.ended = true;
    this.reply.raw.end();
  }
}
