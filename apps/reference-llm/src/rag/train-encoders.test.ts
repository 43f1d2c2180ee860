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

  it('a cross-encoder learns to score the passage above its hard negatives', async () => {
    const model = new CrossEncoder(tinyEncoder, device);
    const examples = pairs.map((p, i) => ({
      ...p,
      negatives: [PASSAGES[(i + 1) % 6]!, PASSAGES[(i + 2) % 6]!],
    }));
    const reranker = asReranker(model, tok);
    const own = (q: string, i: number) =>
      Promise.resolve(reranker.score(q, [PASSAGES[i]!, ...examples[i]!.negatives]));
    const ordered = async () => {
      let n = 0;
      for (let i = 0; i < 6; i++) {
        const [pos, ...neg] = await own(QUESTIONS[i]!, i);
        if (pos! > Math.max(...neg)) n++;
      }
      return n;
    };
    const before = await ordered();
    const history = await trainCrossEncoder(model, tok, examples, {
      ...settings,
      batchSize: 3,
      sink: lines(),
    });
    expect(history.trainLoss.at(-1)!).toBeLessThan(history.trainLoss[0]! / 2);
    expect(await ordered()).toBe(6);
    expect(before).toBeLessThan(6);
  });

  it('needs the same number of negatives in every example', () => {
    const model = new CrossEncoder(tinyEncoder, device);
    expect(() =>
      trainCrossEncoder(
        model,
        tok,
        [
          { ...pairs[0]!, negatives: ['a'] },
          { ...pairs[1]!, negatives: [] },
        ],
        settings,
      ),
    ).toThrow(
      'trainCrossEncoder: every example needs the same number (≥ 1) of negatives; example 0 has 1, example 1 0',
    );
  });
});
