import { Module } from '@tessera/nn';
import { AdamW } from '@tessera/optim';
import type { Device, Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import {
  ClassificationHead,
  DecoderLM,
  ScalarHead,
  type TransformerConfig,
  Trunk,
} from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { ids2d, small } from './test-utils/fixtures.js';

const { all, cpu } = await testDevices();

/**
 * A reward model from the parts, named as Hugging Face's LlamaForSequenceClassification
 * (`model.*`, `score.weight`): a causal trunk and a scalar head read at each row's last token.
 */
class RewardModel extends Module {
  model: Trunk;
  score: ScalarHead;
  constructor(config: TransformerConfig, device: Device) {
    super();
    this.model = new Trunk(config, { causal: true }, device);
    this.score = new ScalarHead(config.dModel, { device, seed: 77 });
  }
  /** ids [B, T] → rewards [B], each at index `last[b]`. */
  forward(ids: Tensor, last: readonly number[]): Tensor {
    const values = this.score.forward(this.model.forward(this.model.embed(ids))); // [B, T]
    const at = T.tensor(Int32Array.from(last), { shape: [last.length, 1], device: ids.device });
    return T.reshape(T.gather(values, 1, at), [last.length]);
  }
}

/** A BERT-style classifier from the parts: a bidirectional trunk and a head on the first token. */
class Classifier extends Module {
  model: Trunk;
  classifier: ClassificationHead;
  constructor(config: TransformerConfig, classes: number, device: Device) {
    super();
    this.model = new Trunk(config, { causal: false }, device);
    this.classifier = new ClassificationHead(config.dModel, classes, { device, seed: 78 });
  }
  forward(ids: Tensor): Tensor {
    return this.classifier.forward(this.model.forward(this.model.embed(ids)));
  }
}

describe.each(all)('models built from the parts ($info.backend)', (dev) => {
  it('a reward model starts from a language model checkpoint and learns a preference', async () => {
    const lm = new DecoderLM(small, dev);
    const rm = new RewardModel(small, dev);
    // The trunk's names are the LM's: its weights load, only the heads differ.
    const { missing, unexpected } = rm.loadStateDict(lm.stateDict(), { strict: false });
    expect(missing).toEqual(['score.weight']);
    expect(unexpected).toEqual(['lm_head.weight']);
    const chosen = ids2d([[3, 9, 27, 4, 4, 0]], dev);
    const rejected = ids2d([[3, 9, 27, 11, 0, 0]], dev); // shorter: last real token at 3
    // The reward is the head's dot product with the LM's hidden state at the last token.
    const hidden = (await lm.hidden(chosen).toArray()) as number[][][];
    const w = await rm.score.weight.data();
    const want = hidden[0]![5]!.reduce((s, h, d) => s + h * w[d]!, 0);
    expect(await rm.forward(chosen, [5]).item()).toBeCloseTo(want, 4);
    // Bradley–Terry: −log σ(r_chosen − r_rejected), a few AdamW steps widen the margin.
    const opt = new AdamW(rm.parameters(), { lr: 1e-2, weightDecay: 0 });
    const margin = () => T.sub(rm.forward(chosen, [5]), rm.forward(rejected, [3]));
    const first = await T.noGrad(margin).item();
    for (let i = 0; i < 8; i++)
      T.tidy(() => {
        opt.zeroGrad();
        T.neg(T.log(T.sigmoid(margin())))
          .sum()
          .backward();
        expect(rm.model.layers[0]!.self_attn.q_proj.weight.grad).toBeTruthy(); // the trunk learns too
        opt.step();
      });
    expect(await T.noGrad(margin).item()).toBeGreaterThan(first + 1);
  });

  it('a classifier reads the first token, which sees the whole sequence', async () => {
    const model = new Classifier(small, 2, dev);
    // Class 1 when the last token is 7: only bidirectional attention lets position 0 know.
    const rows = Array.from({ length: 8 }, (_, i) => [1 + i, 2 + i, 3, i % 2 ? 7 : 8]);
    const ids = ids2d(rows, dev);
    const labels = T.tensor(Int32Array.from(rows.map((r) => (r[3] === 7 ? 1 : 0))), {
      device: dev,
    });
    const logits = model.forward(ids);
    expect(logits.shape).toEqual([8, 2]);
    // The head is a linear map of the first position's hidden state.
    const h0 = T.reshape(T.slice(model.model.forward(model.model.embed(ids)), 1, 0, 1), [8, 32]);
    const { weight, bias } = model.classifier;
    const manual = T.add(T.matmul(h0, T.transpose(weight)), bias!);
    expect(maxRelError(await logits.data(), await manual.data())).toBeLessThan(1e-5);
    const opt = new AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0 });
    const losses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const loss = T.tidy(() => {
        opt.zeroGrad();
        const l = T.crossEntropy(model.forward(ids), labels);
        l.backward();
        opt.step();
        return l;
      });
      losses.push(await loss.item());
      loss.dispose();
    }
    expect(losses.at(-1)!).toBeLessThan(0.1 * losses[0]!);
  });
});

describe('heads', () => {
  it('shapes and names', () => {
    const h = T.randn([2, 5, 8], { device: cpu, seed: 1 });
    expect(new ScalarHead(8, { device: cpu }).forward(h).shape).toEqual([2, 5]);
    expect(new ClassificationHead(8, 3, { device: cpu }).forward(h).shape).toEqual([2, 3]);
    expect(Object.keys(new ScalarHead(8, { device: cpu }).stateDict())).toEqual(['weight']);
    expect(Object.keys(new ClassificationHead(8, 3, { device: cpu }).stateDict())).toEqual([
      'weight',
      'bias',
    ]);
    expect(() =>
      new ClassificationHead(8, 3, { device: cpu }).forward(T.zeros([2, 8], { device: cpu })),
    ).toThrow(/hidden must be \[batch, T, dModel\], got \[2, 8\]/);
  });

  it('draws the weight with the std given', async () => {
    const std = async (o: { std?: number }) => {
      const w = await new ClassificationHead(64, 64, { device: cpu, seed: 2, ...o }).weight.data();
      return Math.sqrt([...w].reduce((s, v) => s + v * v, 0) / w.length);
    };
    expect(await std({})).toBeCloseTo(0.02, 2);
    expect(await std({ std: 0.5 })).toBeCloseTo(0.5, 1);
  });
});
