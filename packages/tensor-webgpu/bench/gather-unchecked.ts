/**
 * The gather kernel without its device-side index check: the baseline that measures what the
 * check costs (an extra binding, and the check buffer copied back with the next read).
 */
import { defineOp, type Tensor } from '../src/index.js';
import { gatherKernel } from '../src/ops/gather-kernel.js';

const uncheckedGather = defineOp<undefined>({
  name: 'gather_unchecked',
  stridedInputs: [false, true],
  outputs: ([x, index]) => [{ shape: index!.shape, dtype: x!.dtype }],
  wgsl: ([x, index], _o, _p, info) => gatherKernel(x!, index!, 0, info),
  cpu: () => {
    throw new Error('gather_unchecked is a WebGPU benchmark baseline');
  },
});

/** Embedding rows of `weight` [vocab, dim] for 1-D `ids`, with no bounds check. */
export function uncheckedEmbedding(weight: Tensor, ids: Tensor): Tensor {
  const index = ids.reshape([-1, 1]).expand([ids.shape[0]!, weight.shape[1]!]);
  return uncheckedGather([weight, index], undefined)[0]!;
}
