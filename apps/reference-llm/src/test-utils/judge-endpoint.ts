import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { comparePairwise } from '@tessera/eval';
import { JUDGE_CRITERIA } from '../pipeline/judge.js';
import { type Calls, callChatModel } from '../queue/calls.js';

/** What the stub judge is asked: the user message of each chat request, in arrival order. */
export interface StubJudge {
  url: string;
  /** The user message of every chat request received, answered or not. */
  asked: string[];
  /** The most chat requests it held at once (received, not yet answered). */
  readonly maxInFlight: number;
  close: () => Promise<void>;
}

/**
 * An OpenAI-compatible endpoint (`GET /v1/models` lists `stub`) whose judge prefers the longer
 * answer, reasoning first, and `WINNER: TIE` on equal lengths, `delayMs` after the request came.
 * `respond(n)` may take over request `n` (0-based): return a status code to fail it with, `'hold'`
 * to never answer it, or undefined to answer normally.
 */
export async function stubJudge(
  respond: (n: number) => number | 'hold' | undefined = () => undefined,
  delayMs = 0,
): Promise<StubJudge> {
  const asked: string[] = [];
  const held: ServerResponse[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/models') return res.end(JSON.stringify({ data: [{ id: 'stub' }] }));
      const user = JSON.parse(body).messages.at(-1).content as string;
      const takeover = respond(asked.length);
      asked.push(user);
      if (takeover === 'hold') return held.push(res);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      const answer = (text: string) => {
        inFlight--;
        res.end(text);
      };
      setTimeout(() => {
        if (takeover !== undefined) {
          res.statusCode = takeover;
          return answer(JSON.stringify({ error: { message: 'stub failure' } }));
        }
        const [, first, second] = /Answer 1: (.*)\n\nAnswer 2: (.*)$/s.exec(user)!;
        const winner =
          first!.length === second!.length ? 'TIE' : first!.length > second!.length ? '1' : '2';
        const content = `The longer answer shows more work.\nWINNER: ${winner}`;
        answer(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Three questions whose answers differ in length, judged in both orders (six calls). */
export const JUDGED_ITEMS = [
  { question: 'What is 2 + 3?', answerA: '5', answerB: 'It is 5, since 2 + 3 = 5.' },
  { question: 'What is 4 + 4?', answerA: 'Eight: 4 + 4 = 8.', answerB: '8' },
  { question: 'What is 1 + 1?', answerA: '2', answerB: '3' },
];

/** `JUDGED_ITEMS` compared by the judge at `url` (model `stub`) through `calls`. */
export const judgedItems = (calls: Calls, url: string, concurrency: number) =>
  comparePairwise(callChatModel(calls, url, 'stub'), JUDGED_ITEMS, {
    criteria: JUDGE_CRITERIA,
    concurrency,
  });
