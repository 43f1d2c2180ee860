import * as T from '@tessera/tensor-webgpu';
import { describe, expect, it } from 'vitest';
import { lines } from '../test-utils/fixtures.js';
import { PASSAGES, QUESTIONS, tinyEncoder, tinyTokenizer } from '../test-utils/retrieval.js';
import { asEmbedder, asReranker } from './adapters.js';
import { BiEncoder, CrossEncoder } from './encoders.js';
import { trainBiEncoder, trainCrossEncoder } from './train-encoders.js';

const device = await T.createDevice({ backend: 'cpu' });
const tok = tinyTokenizer;
const pairs = QUESTIONS.map((query, i) => ({ query, passage: PASSAGES[i]! }));
const settings = { steps: 60, batchSize: 6, lr: 3e-3, seed: 1 };

/** Mean over questions of (score of its own passage − best score of another). */
async function margin(scores: (q: string, i: number) => Promise<number[]>): Promise<number> {
  let total = 0;
  for (let i = 0; i < QUESTIONS.length; i++) {
    const s = await scores(QUESTIONS[i]!, i);
    total += s[i]! - Math.max(...s.filter((_, j) => j !== i));
  }
  return total / QUESTIONS.length;
}

describe('training the retrieval encoders', () => {
  it('a bi-encoder learns to put each question next to its passage', async () => {
    const model = new BiEncoder(tinyEncoder, device);
    const embedder = asEmbedder(model, tok);
    const cosine = async (q: string) => {
      const [v, ...ps] = await embedder.embed([q, ...PASSAGES]);
      const norm = (x: Float32Array) => Math.hypot(...x);
      return ps.map((p) => p.reduce((s, x, k) => s + x * v![k]!, 0) / norm(p) / norm(v!));
    };
    const before = await margin(cosine);
    const sink = lines();
    const history = await trainBiEncoder(model, tok, pairs, {
      ...settings,
      temperature: 0.1,
      sink,
    });
    expect(history.trainLoss).toHaveLength(60);
    expect(history.trainLoss.at(-1)!).toBeLessThan(history.trainLoss[0]! / 4);
    const after = await margin(cosine);
    expect(after).toBeGreaterThan(0.2);
    expect(after).toBeGreaterThan(before + 0.1);
    expect(sink.lines.at(-1)).toMatch(/^bi-encoder .* 60\/60/);
  });

  it("a cross-encoder learns to rank each question's passage first among all passages", async () => {
    const model = new CrossEncoder(tinyEncoder, device);
    // Each question's other passages are its hard negatives; each step draws two of them and
    // three at random among all passages, so that every step holds the whole task.
    const examples = pairs.map((p) => ({
      ...p,
      negatives: PASSAGES.filter((x) => x !== p.passage),
    }));
    const reranker = asReranker(model, tok);
    const firsts = async () => {
      let n = 0;
      for (let i = 0; i < 6; i++) {
        const s = await reranker.score(QUESTIONS[i]!, PASSAGES);
        if (s.every((x, j) => j === i || x < s[i]!)) n++;
      }
      return n;
    };
    const before = await firsts();
    const history = await trainCrossEncoder(model, tok, examples, {
      ...settings,
      steps: 150,
      batchSize: 6,
      hard: 2,
      random: 3,
      passages: PASSAGES,
      sink: lines(),
    });
    expect(history.trainLoss.at(-1)!).toBeLessThan(history.trainLoss[0]! / 2);
    expect(await firsts()).toBe(6);
    expect(before).toBeLessThan(6);
  });

  it('refuses negatives it cannot draw, naming the numbers', () => {
    const model = new CrossEncoder(tinyEncoder, device);
    const base = { ...settings, hard: 1, random: 1, passages: PASSAGES };
    const one = [{ ...pairs[0]!, negatives: [PASSAGES[1]!] }];
    expect(() => trainCrossEncoder(model, tok, one, { ...base, hard: 0, random: 0 })).toThrow(
      'trainCrossEncoder: hard and random must be integers ≥ 0 with a sum ≥ 1, got 0 and 0',
    );
    expect(() => trainCrossEncoder(model, tok, one, { ...base, hard: 2 })).toThrow(
      'trainCrossEncoder: example 0 has 1 negatives, fewer than hard = 2',
    );
    expect(() =>
      trainCrossEncoder(model, tok, one, { ...base, passages: PASSAGES.slice(0, 2) }),
    ).toThrow(
      'trainCrossEncoder: 1 hard and 1 random negatives need at least 3 distinct passages, got 2',
    );
  });
});
