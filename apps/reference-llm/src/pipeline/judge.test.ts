import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testDevices } from '@tessera/tensor-webgpu/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { listen, servedMicro } from '../test-utils/serve.js';
import { endpointJudge, JUDGED_QUESTIONS, judgeStages } from './judge.js';

const { gpu, cpu } = await testDevices();
const device = gpu ?? cpu;
const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const close of closers) await close();
});

/**
 * An OpenAI-compatible endpoint whose "model" prefers the answer that holds "Answer: 5", shown
 * first or second, reasoning first; it records the requests.
 */
async function stubJudge(): Promise<{
  url: string;
  requests: { model: string; messages: { content: string }[] }[];
}> {
  const requests: { model: string; messages: { content: string }[] }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1/models') return res.end(JSON.stringify({ data: [{ id: 'stub' }] }));
      if (req.url !== '/v1/chat/completions') {
        res.statusCode = 404;
        return res.end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
      }
      const r = JSON.parse(body);
      requests.push(r);
      const user = r.messages.at(-1).content as string;
      const [first, second] = user.split('Answer 2: ');
      const verdict = first!.includes('Answer: 5')
        ? '1'
        : second!.includes('Answer: 5')
          ? '2'
          : 'TIE';
      const content = `The right answer is 5.\nWINNER: ${verdict}`;
      res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const question = (i: number) => `What is 2 + ${i}?`;
const answers = {
  sft: Array.from({ length: 3 }, (_, i) => ({ question: question(i), reply: 'Answer: 7' })),
  dpo: Array.from({ length: 3 }, (_, i) => ({
    question: question(i),
    reply: i === 2 ? 'Answer: 7' : 'It is five.\nAnswer: 5',
  })),
  reward: [],
};

describe('judgeStages', () => {
  it('compares each stage with the baseline in both orders over the endpoint, keeping every rationale', async () => {
    const stub = await stubJudge();
    const judge = await endpointJudge({ url: `${stub.url}/` });
    expect(judge.id).toBe('stub');
    const r = await judgeStages(judge, stub.url, answers, 'sft');
    expect(r.judge).toEqual({ url: stub.url, model: 'stub' });
    expect('caveat' in r).toBe(false);
    expect(r.comparisons.map((c) => [c.stage, c.against])).toEqual([['dpo', 'sft']]);
    const report = r.comparisons[0]!.report;
    expect(report).toMatchObject({
      winners: ['A', 'A', 'tie'],
      positionDisagreement: 0,
      firstPositionRate: 0.5, // dpo's answer wins shown first and shown second
      longerWinRate: 1,
      lengthComparisons: 2,
      warnings: [],
    });
    expect(stub.requests).toHaveLength(6);
    expect(stub.requests.every((q) => q.model === 'stub')).toBe(true);
    expect(stub.requests[1]!.messages.at(-1)!.content).toContain(
      'Answer 1: Answer: 7\n\nAnswer 2: It is five.\nAnswer: 5',
    );
    expect(r.comparisons[0]!.verdicts[0]).toEqual({
      question: question(0),
      stageFirst: 'The right answer is 5.\nWINNER: 1',
      againstFirst: 'The right answer is 5.\nWINNER: 2',
    });
  });

  it('keeps the caveat it is given, and each comparison warns when the judge is one of its two stages', async () => {
    const stub = await stubJudge();
    const judge = await endpointJudge({ url: stub.url, model: 'dpo' });
    const r = await judgeStages(judge, stub.url, answers, 'sft', 'self-enhancement: …');
    expect(r.caveat).toBe('self-enhancement: …');
    expect((r.comparisons[0]!.report as { warnings: string[] }).warnings).toEqual([
      'self-enhancement: the judge "dpo" is also a candidate model; prefer an independent judge',
    ]);
  });

  it('judges through the project’s own server; a reply without a verdict is that comparison’s error', async () => {
    const server = await listen([await servedMicro(device)]);
    closers.push(server.close);
    const judge = await endpointJudge({ url: server.url });
    expect(judge.id).toBe('micro');
    const many = Array.from({ length: JUDGED_QUESTIONS + 5 }, (_, i) => ({
      question: question(i),
      reply: 'Answer: 5',
    }));
    const r = await judgeStages(judge, server.url, { sft: many, ppo: many }, 'sft');
    const { report, verdicts } = r.comparisons[0]!;
    expect((report as { error: string }).error).toMatch(
      /^judge: expected a final line "WINNER: 1, WINNER: 2 or WINNER: TIE", got /,
    );
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]!.question).toBe(question(0));
  });

  it('names --judge-url when the endpoint cannot be reached or refuses', async () => {
    await expect(endpointJudge({ url: 'http://127.0.0.1:1' })).rejects.toThrow(
      /^--judge-url: http:\/\/127\.0\.0\.1:1\/v1\/models cannot be reached/,
    );
    const stub = await stubJudge();
    const judge = await endpointJudge({ url: stub.url });
    await expect(
      endpointJudge({ url: `${stub.url}/missing`, model: 'x' }).then((j) => j.chat([])),
    ).rejects.toThrow(
      /^--judge-url: http:\/\/127\.0\.0\.1:\d+\/missing\/v1\/chat\/completions answered/,
    );
    expect(judge.id).toBe('stub');
  });
});
