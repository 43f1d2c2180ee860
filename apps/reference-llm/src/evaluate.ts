import { readFileSync } from 'node:fs';
import { bitsPerByteFromMeanNll } from '@tessera/eval';
import * as T from '@tessera/tensor-webgpu';
import { loadCheckpoint } from './load.js';
import { DEFAULT_DATA, splitText } from './train.js';

/**
 * Validation perplexity and bits per byte of a checkpoint: the validation split in consecutive
 * windows of `seqLen` tokens, every token scored once.
 */
export async function evaluateCheckpoint(
  dir: string,
  options: { data?: string | URL; seqLen?: number; device?: T.Device } = {},
): Promise<{ tokens: number; meanNll: number; perplexity: number; bitsPerByte: number }> {
  const { model, tokenizer } = loadCheckpoint(dir, options.device);
  const { val } = splitText(readFileSync(options.data ?? DEFAULT_DATA, 'utf8'));
  const ids = Int32Array.from(tokenizer.encode(val, { disallowedSpecial: [] }));
  const seqLen = options.seqLen ?? model.config.maxSeqLen;
  let nats = 0;
  let count = 0;
  for (let start = 0; start + 1 < ids.length; start += seqLen) {
    const end = Math.min(start + seqLen, ids.length - 1);
    const x = T.tensor(ids.subarray(start, end), { shape: [1, end - start], device: model.device });
    const y = T.tensor(ids.subarray(start + 1, end + 1), {
      shape: [end - start],
      device: model.device,
    });
    const loss = T.noGrad(() =>
      T.tidy(() =>
        T.crossEntropy(T.reshape(model.forward(x), [-1, model.vocabSize]), y, { reduction: 'sum' }),
      ),
    );
    nats += await loss.item();
    count += end - start;
    for (const t of [x, y, loss]) t.dispose();
  }
  const meanNll = nats / count;
  return {
    tokens: count,
    meanNll,
    perplexity: Math.exp(meanNll),
    bitsPerByte: bitsPerByteFromMeanNll(meanNll, count, new TextEncoder().encode(val).length),
  };
}
