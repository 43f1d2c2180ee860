import { Module, SwiGLU } from '@tessera/nn';
import type { Tensor } from '@tessera/tensor-webgpu';
import * as T from '@tessera/tensor-webgpu';
import { maxRelError, testDevices } from '@tessera/tensor-webgpu/testing';
import { DecoderLM, type FeedForward, type FeedForwardSpec } from '@tessera/transformer';
import { describe, expect, it } from 'vitest';
import { ids2d, small } from './test-utils/fixtures.js';

const { all } = await testDevices();

/** A test layer: SwiGLU whose auxiliary loss is (layer + 1)·0.01·mean(output²). */
class PenalisedFfn extends Module implements FeedForward {
  inner: SwiGLU;
  // Private fields: a tensor in an ordinary property would join the state dict.
  #output: Tensor | undefined;
  #loss: Tensor | undefined;
  constructor(readonly spec: FeedForwardSpec) {
    super();
    const { dModel, hidden, device, seed } = spec;
    this.inner = new SwiGLU(dModel, hidden, { device, seed });
  }
  forward(x: Tensor): Tensor {
    this.#output = this.inner.forward(x);
    this.#loss = T.mul(T.mean(T.mul(this.#output, this.#output)), 0.01 * (this.spec.layer + 1));
    return this.#output;
  }
  output(): Tensor {
    return this.#output!;
  }
  auxLoss(): Tensor | undefined {
    return this.#loss;
  }
}

describe.each(all)('auxiliary losses ($info.backend)', (dev) => {
  it('a layer adds one, the model collects it after a forward pass, and it trains', async () => {
    const specs: FeedForwardSpec[] = [];
    const lm = new DecoderLM(
      {
        ...small,
        ffn: (spec) => {
          specs.push(spec);
          return new PenalisedFfn(spec);
        },
      },
      dev,
    );
    expect(specs.map((s) => [s.layer, s.dModel, s.hidden])).toEqual([
      [0, 32, 128],
      [1, 32, 128],
    ]);
    expect(Object.keys(lm.stateDict())).toContain('model.layers.1.mlp.inner.gate_proj.weight');
    const ids = ids2d([[1, 5, 9, 14, 2]], dev);
    const targets = ids2d([[5, 9, 14, 2, 7]], dev);
    const ce = T.crossEntropy(lm.forward(ids), targets);
    const aux = lm.auxLosses();
    expect(Object.keys(aux)).toEqual(['model.layers.0.mlp', 'model.layers.1.mlp']);
    for (const [i, block] of lm.model.layers.entries()) {
      const y = Array.from(await (block.mlp as PenalisedFfn).output().data());
      const want = (0.01 * (i + 1) * y.reduce((s, v) => s + v * v, 0)) / y.length;
      expect(await aux[`model.layers.${i}.mlp`]!.item()).toBeCloseTo(want, 6);
    }
    // The auxiliary losses change the FFN's gradients, not the attention's.
    const gradsOf = async (loss: Tensor) => {
      for (const p of lm.parameters()) p.grad = null;
      loss.backward();
      return {
        ffn: await lm.model.layers[0]!.mlp.parameters()[0]!.grad!.data(),
        attn: await lm.model.layers[1]!.self_attn.q_proj.weight.grad!.data(),
      };
    };
    const withAux = await gradsOf(
      T.add(ce, T.add(aux['model.layers.0.mlp']!, aux['model.layers.1.mlp']!)),
    );
    const plain = await gradsOf(T.crossEntropy(lm.forward(ids), targets));
    expect(maxRelError(withAux.ffn, plain.ffn)).toBeGreaterThan(1e-6);
    expect(maxRelError(withAux.attn, plain.attn)).toBeLessThan(1e-5);
  });

  it('the built-in layers add none', () => {
    const lm = new DecoderLM(small, dev);
    lm.forward(ids2d([[1, 2]], dev));
    expect(lm.auxLosses()).toEqual({});
  });
});
