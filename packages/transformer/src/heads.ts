import { Linear, type LinearOptions, normalInit } from '@tessera/nn';
import { checkOptions, reshape, slice, type Tensor } from '@tessera/tensor-webgpu';

/** Init of a head: a normal(0, std) weight (default std 0.02) on `device`, from `seed`. */
export type HeadOptions = Pick<LinearOptions, 'device' | 'seed' | 'bias'> & { std?: number };

function headWeight(where: string, rows: number, dModel: number, o: HeadOptions): LinearOptions {
  checkOptions(where, o, ['device', 'seed', 'bias', 'std']);
  const { std, ...linear } = o;
  return {
    ...linear,
    weight: normalInit([rows, dModel], std ?? 0.02, { device: o.device, seed: o.seed }),
  };
}

/**
 * A scalar per position: reward models and PPO value models (`Linear(dModel → 1)`, no bias by
 * default, as Hugging Face's `…ForSequenceClassification.score` with one label). hidden
 * [..., dModel] → [...]. A reward model reads each row's value at its last real token.
 */
export class ScalarHead extends Linear {
  constructor(dModel: number, options: HeadOptions = {}) {
    super(dModel, 1, headWeight('ScalarHead', 1, dModel, { bias: false, ...options }));
  }

  override forward(hidden: Tensor): Tensor {
    return reshape(super.forward(hidden), hidden.shape.slice(0, -1));
  }
}

/**
 * Class logits from the first token (BERT's [CLS], ViT's class token): `Linear(dModel →
 * classes)` with a bias, as Hugging Face's `classifier`. hidden [B, T, dModel] → [B, classes].
 */
export class ClassificationHead extends Linear {
  constructor(dModel: number, classes: number, options: HeadOptions = {}) {
    super(
      dModel,
      classes,
      headWeight('ClassificationHead', classes, dModel, { bias: true, ...options }),
    );
  }

  override forward(hidden: Tensor): Tensor {
    if (hidden.rank !== 3)
      throw new RangeError(
        `ClassificationHead: hidden must be [batch, T, dModel], got [${hidden.shape.join(', ')}]`,
      );
    const first = reshape(slice(hidden, 1, 0, 1), [hidden.shape[0]!, hidden.shape[2]!]);
    return super.forward(first);
  }
}
