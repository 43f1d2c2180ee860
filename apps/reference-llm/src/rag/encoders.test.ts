import * as T from '@tessera/tensor-webgpu';
import { maxRelError } from '@tessera/tensor-webgpu/testing';
import { describe, expect, it } from 'vitest';
import { PASSAGES, tinyEncoder, tinyTokenizer } from '../test-utils/retrieval.js';
import { BiEncoder, CrossEncoder, padRows, retrievalIds, retrievalText } from './encoders.js';

const device = await T.createDevice({ backend: 'cpu' });
const tok = tinyTokenizer;
const pad = tok.specialId('[PAD]');

describe('retrieval encoders', () => {
  it('pads rows with a mask of the real tokens', async () => {
    const rows = padRows([[5, 6, 7], [8]], pad, device);
    expect(rows.ids.shape).toEqual([2, 3]);
    expect(Array.from(await rows.ids.data())).toEqual([5, 6, 7, 8, pad, pad]);
    expect(Array.from(await rows.mask.data())).toEqual([1, 1, 1, 1, 0, 0]);
  });

  it('embeds a text the same alone and padded in a batch beside a longer one', async () => {
    const model = new BiEncoder(tinyEncoder, device);
    const rows = model.rows(tok, [PASSAGES[0]!, 'the king']);
    const batch = await model.forward(padRows(rows, pad, device)).data();
    const alone = await model.forward(padRows([rows[1]!], pad, device)).data();
    const d = tinyEncoder.dModel;
    expect(maxRelError(batch.subarray(d, 2 * d), alone)).toBeLessThan(1e-4);
  });

  it('reads a question and the passage it quotes in one form, whatever their case and punctuation', () => {
    const model = new BiEncoder(tinyEncoder, device);
    const [question, passage] = model.rows(tok, [
      'who says «the king rides»?',
      'Who says, The KING rides!',
    ]);
    expect(passage).toEqual(question);
    expect(retrievalText("ROMEO:\nO, she doth teach the torches to burn bright! 'Tis")).toBe(
      "romeo o she doth teach the torches to burn bright 'tis",
    );
  });

  it('refuses a text longer than the window, naming it', () => {
    const model = new BiEncoder(tinyEncoder, device);
    const long = [...PASSAGES, ...PASSAGES].join(' ');
    expect(() => model.rows(tok, [long], 'query')).toThrow(
      new RegExp(
        `^query "the king rides.*" has ${retrievalIds(tok, long).length} tokens; the encoder's window is 48$`,
      ),
    );
  });

  it('puts a pair in one row, [CLS] query [SEP] passage, cutting the passage at the window', () => {
    const model = new CrossEncoder(tinyEncoder, device);
    const row = model.pairRow(tok, 'who rides', PASSAGES.join(' '));
    expect(row).toHaveLength(48);
    const q = retrievalIds(tok, 'who rides');
    expect(row.slice(0, q.length + 2)).toEqual([
      tok.specialId('[CLS]'),
      ...q,
      tok.specialId('[SEP]'),
    ]);
    expect(row.slice(q.length + 2)).toEqual(
      retrievalIds(tok, PASSAGES.join(' ')).slice(0, 48 - q.length - 2),
    );
    expect(() => model.pairRow(tok, [...PASSAGES, ...PASSAGES].join(' '), 'x')).toThrow(
      /^query "the king rides.*" has \d+ tokens; the reranker's window of 48 holds at most 45$/,
    );
  });

  it('scores each row from its first token, whatever follows the padding', async () => {
    const model = new CrossEncoder(tinyEncoder, device);
    const a = model.pairRow(tok, 'who rides', PASSAGES[0]!);
    const b = model.pairRow(tok, 'who', 'x');
    const both = await model.forward(padRows([a, b], pad, device)).data();
    const alone = await model.forward(padRows([b], pad, device)).data();
    expect(both).toHaveLength(2);
    expect(maxRelError([both[1]!], alone)).toBeLessThan(1e-4);
  });
});
