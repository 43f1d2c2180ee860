import { createDevice, crossEntropy, tensor } from '@tessera/tensor-webgpu';
import { DecoderLM } from '@tessera/transformer';

const dev = await createDevice();
const lm = new DecoderLM({
  vocabSize: 256,
  dModel: 64,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  maxSeqLen: 128,
  seed: 1,
});
console.log(
  `${lm.numParameters()} parameters, ${lm.flopsPerToken(128).total} training FLOPs per token`,
);

const ids = tensor(Int32Array.from(Buffer.from('hello, world')), { shape: [1, 12] });
const logits = lm.forward(ids); // [1, 12, 256]
const loss = crossEntropy(
  logits.reshape([-1, 256]).contiguous(),
  tensor(Int32Array.from(Buffer.from('ello, world!')), { shape: [12] }),
);
loss.backward();
console.log('loss', await loss.item(), '— state dict keys like', Object.keys(lm.stateDict())[1]);
dev.destroy();
