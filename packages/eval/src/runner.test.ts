import {
  arithmeticTask,
  buildPrompt,
  type DocResult,
  knowledgeQuizTask,
  type LanguageModel,
  type RunOptions,
  reportToMarkdown,
  runBenchmark,
  truncateAtStop,
} from '@tessera/eval';
import { describe, expect, it } from 'vitest';

const quiz = knowledgeQuizTask();
const answers = new Set(quiz.docs.map((d) => ` ${d.choices[d.answer]}`));

/** Knows the quiz; computes sums from the last question and rambles past a newline. */
const oracle: LanguageModel = {
  id: 'oracle',
  logLikelihood: (_context, continuation) => (answers.has(continuation) ? -1 : -5),
  generate: (prompt) => {
    const [, a, op, b] = /What is (\d+) ([+-]) (\d+)\?\nA:$/.exec(prompt)!;
    return ` ${op === '+' ? Number(a) + Number(b) : Number(a) - Number(b)}\nQ: and more`;
  },
};

describe('benchmark runner', () => {
  it('scores multiple choice by log-likelihood and generation after stop sequences', async () => {
    const progress: number[] = [];
    const report = await runBenchmark(oracle, [quiz, arithmeticTask(20, 7)], {
      onProgress: (_t, done) => progress.push(done),
    });
    expect(report.results.map((r) => r.metrics)).toEqual([{ acc: 1, acc_norm: 1 }, { score: 1 }]);
    expect(progress).toHaveLength(30);
    expect(reportToMarkdown(report)).toContain('| knowledge-quiz | 0 | 10 | acc | 1.0000 |');
  });

  it("hands every doc's prompt, raw generation and score to onDoc", async () => {
    const docs: [string, DocResult][] = [];
    const task = arithmeticTask(3, 5);
    const report = await runBenchmark(oracle, [quiz, task], {
      limit: 3,
      onDoc: (name, doc) => docs.push([name, doc]),
    });
    expect(docs.map(([name, d]) => [name, d.index, d.score])).toEqual([
      ['knowledge-quiz', 0, 1],
      ['knowledge-quiz', 1, 1],
      ['knowledge-quiz', 2, 1],
      ['arithmetic', 0, 1],
      ['arithmetic', 1, 1],
      ['arithmetic', 2, 1],
    ]);
    expect(docs[0]![1]).toEqual({ index: 0, prompt: buildPrompt(quiz, 0), score: 1 });
    // The generation as the model returned it: the stop sequence and what follows are still there.
    const [, first] = docs[3]!;
    expect(first.prompt).toBe(task.docs[0]!.prompt);
    expect(first.response).toBe(`${oracle.generate(first.prompt, { maxTokens: 8, stop: ['\n'] })}`);
    expect(first.response).toContain('\nQ: and more');
    expect(report.results[1]!.metrics.score).toBe(1);
  });

  // A model whose log-likelihood is -0.5 per character prefers short choices; acc_norm removes that.
  it('acc_norm divides by the continuation length', async () => {
    const task = {
      name: 'len',
      kind: 'multiple-choice' as const,
      docs: [{ question: 'q', choices: ['ab', 'abcdefgh'], answer: 1 }],
    };
    const perChar: LanguageModel = {
      id: 'per-char',
      logLikelihood: (_c, cont) => -0.5 * cont.length - (cont === ' abcdefgh' ? 0 : 0.2),
      generate: () => '',
    };
    const r = await runBenchmark(perChar, [task]);
    expect(r.results[0]!.metrics).toEqual({ acc: 0, acc_norm: 1 });
  });

  it('builds seeded few-shot prompts that never include the question itself', () => {
    const p1 = buildPrompt(quiz, 3, 2, 42);
    expect(p1).toBe(buildPrompt(quiz, 3, 2, 42));
    expect(p1.split('Question:')).toHaveLength(4);
    expect(p1.endsWith(`Question: ${quiz.docs[3]!.question}\nAnswer:`)).toBe(true);
    expect(p1.indexOf(quiz.docs[3]!.question)).toBe(p1.lastIndexOf(quiz.docs[3]!.question));
    expect(() => buildPrompt(quiz, 0, 10)).toThrow(/numFewshot 10 exceeds the 9 other docs/);
  });

  it('rejects unknown options', async () => {
    const misspelt = { numFewShot: 2 } as RunOptions;
    await expect(runBenchmark(oracle, [quiz], misspelt)).rejects.toThrow(
      'runBenchmark: unknown option "numFewShot" (known options: numFewshot, seed, limit, onProgress, onDoc, concurrency)',
    );
  });

  it('scores `concurrency` docs at once with the same metrics as one at a time', async () => {
    let pending = 0;
    let most = 0;
    // Answers late for early docs, so that calls finish out of order; wrong where the second number is even.
    const slow: LanguageModel = {
      id: 'slow',
      logLikelihood: async (context, continuation) => {
        pending++;
        most = Math.max(most, pending);
        await new Promise((resolve) => setTimeout(resolve, 40 - (context.length % 37)));
        pending--;
        return oracle.logLikelihood(context, continuation);
      },
      generate: async (prompt, o) => {
        pending++;
        most = Math.max(most, pending);
        await new Promise((resolve) => setTimeout(resolve, 20 - (prompt.length % 17)));
        pending--;
        const reply = await oracle.generate(prompt, o);
        return /[02468]\?/.test(prompt) ? ' -1' : reply;
      },
    };
    const tasks = [quiz, arithmeticTask(12, 3)];
    const one = await runBenchmark(slow, tasks);
    expect(most).toBe(1);
    const progress: number[] = [];
    const four = await runBenchmark(slow, tasks, {
      concurrency: 4,
      onProgress: (_t, done) => progress.push(done),
    });
    expect(most).toBe(4);
    expect(four).toEqual(one);
    expect(one.results[1]!.metrics.score).toBeLessThan(1);
    expect(progress).toEqual([
      ...Array.from({ length: 10 }, (_, i) => i + 1),
      ...Array.from({ length: 12 }, (_, i) => i + 1),
    ]);
  });

  it('cuts generations at the first stop sequence', () => {
    expect(truncateAtStop('42\nQ: more', ['\n'])).toBe('42');
    expect(truncateAtStop('a.b!c', ['!', '.'])).toBe('a');
    expect(truncateAtStop('abc', [])).toBe('abc');
  });
});
