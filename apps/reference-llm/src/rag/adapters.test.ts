import * as T from '@tessera/tensor-webgpu';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { PASSAGES, QUESTIONS, tinyEncoder, tinyTokenizer } from '../test-utils/retrieval.js';
import { asEmbedder, asReranker } from './adapters.js';
import { BiEncoder, CrossEncoder, padRows } from './encoders.js';

const device = await T.createDevice({ backend: 'cpu' });
const tok = tinyTokenizer;
const pad = tok.specialId('[PAD]');
// 40 texts: more than one batch of 32.
const texts = Array.from({ length: 40 }, (_, i) => `${PASSAGES[i % 6]} ${i}`);

describe('encoder adapters', () => {
  it('embeds in batches what the model gives for each text alone', async () => {
    const model = new BiEncoder(tinyEncoder, device);
    const vectors = await asEmbedder(model, tok).embed(texts);
    expect(vectors).toHaveLength(40);
    for (const i of [0, 31, 32, 39]) {
      const alone = await model.forward(padRows(model.rows(tok, [texts[i]!]), pad, device)).data();
      expect(maxRelError(vectors[i]!, alone)).toBeLessThan(1e-4);
    }
  });

  it('scores in batches what the model gives for each pair alone', async () => {
    const model = new CrossEncoder(tinyEncoder, device);
    const scores = await asReranker(model, tok).score(QUESTIONS[0]!, texts);
    expect(scores).toHaveLength(40);
    for (const i of [0, 33]) {
      const alone = await model
        .forward(padRows([model.pairRow(tok, QUESTIONS[0]!, texts[i]!)], pad, device))
        .data();
      expect(maxRelError([scores[i]!], alone)).toBeLessThan(1e-4);
    }
  });

  it('passes on a too-long query as an error', async () => {
    const model = new BiEncoder(tinyEncoder, device);
    await expect(async () =>
      asEmbedder(model, tok).embed([[...PASSAGES, ...PASSAGES].join(' ')]),
    ).rejects.toThrow(/has \d+ tokens; the encoder's window is 48/);
  });

  it('refuses a text that embeds to all zeros, naming it (punctuation alone has no tokens to pool)', async () => {
    const model = new BiEncoder(tinyEncoder, device);
    await expect(asEmbedder(model, tok).embed([PASSAGES[0]!, '?!?'])).rejects.toThrow(
      'text "?!?" embeds to all zeros, which has no cosine direction: give it words the encoder knows',
    );
  });
});
