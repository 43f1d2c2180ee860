import { testDevices } from '@tessera/tensor-webgpu/testing';
import { trainBpe } from '@tessera/tokenizer';
import { DecoderLM } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { expertColour, routeSentence, routingSvg } from './routing-picture.js';

const { cpu } = await testDevices();

describe('routeSentence', () => {
  it("gives each token's k experts per MoE layer, as the layers choose them, and restores the mode", async () => {
    const tokenizer = trainBpe(['to be or not to be, that is the question'], { vocabSize: 280 });
    const model = new DecoderLM(
      {
        vocabSize: tokenizer.vocabSize,
        dModel: 16,
        layers: 2,
        heads: 2,
        maxSeqLen: 32,
        ffn: 'moe',
        moe: { experts: 4, topK: 2, hidden: 8 },
      },
      cpu,
    );
    const r = await routeSentence(model, tokenizer, 'to be or not to be', 5);
    expect(r.tokens).toHaveLength(5);
    expect(r.tokens.join('')).toBe(
      tokenizer.decode(tokenizer.encode('to be or not to be').slice(0, 5)),
    );
    expect(Object.keys(r.experts)).toEqual(['model.layers.0.mlp', 'model.layers.1.mlp']);
    for (const rows of Object.values(r.experts)) {
      expect(rows).toHaveLength(5);
      for (const k of rows) {
        expect(k).toHaveLength(2);
        expect(new Set(k).size).toBe(2);
        for (const e of k) expect(e >= 0 && e < 4).toBe(true);
      }
    }
    expect(model.training).toBe(true);
    // The same sentence routes the same way again (eval mode: no jitter, nothing learned).
    expect(await routeSentence(model, tokenizer, 'to be or not to be', 5)).toEqual(r);
  });
});

describe('routingSvg', () => {
  it('colours each cell by the first-choice expert and labels it with all k', () => {
    const svg = routingSvg(
      {
        tokens: ['to', ' be', '\n'],
        experts: {
          'model.layers.0.mlp': [
            [2, 0],
            [1, 3],
            [0, 1],
          ],
        },
      },
      4,
      'routing of "to be"',
    );
    expect(svg).toContain(`fill="${expertColour(2, 4)}"`);
    expect(svg).toContain('>2,0<');
    expect(svg).toContain('>1,3<');
    expect(svg).toContain('>↵<'); // a newline token is drawn as ↵
    expect(svg).toContain('routing of &quot;to be&quot;');
    expect(expertColour(1, 4)).toBe('hsl(90, 65%, 72%)');
  });
});
