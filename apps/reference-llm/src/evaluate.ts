import { bitsPerByteFromMeanNll } from '@tessera/eval';
import * as T from '@tessera/tensor-webgpu';
import { byteLength, checkSplitSize, DEFAULT_DATA, readText, splitText } from './data.js';
import { loadCheckpoint } from './load.js';

/**
 * Validation perplexity and bits per byte of a checkpoint: the validation split in consecutive
 * windows of `seqLen` tokens, every token scored once.
 */
export async function evaluateCheckpoint(
  dir: string,
  options: {
    data?: string | URL;
    seqLen?: number;
    device?: T.Device;
    /** Called after each window with windows done and the total (a progress bar). */
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<{ tokens: number; meanNll: number; perplexity: number; bitsPerByte: number }> {
  const { model, tokenizer } = loadCheckpoint(dir, options.device);
  const { val } = splitText(readText(options.data ?? DEFAULT_DATA));
  const ids = Int32Array.from(tokenizer.encode(val, { disallowedSpecial: [] }));
  checkSplitSize('eval', 'validation', { bytes: byteLength(val), tokens: ids.length }, 1);
  const seqLen = options.seqLen ?? model.config.maxSeqLen;
  let nats = 0;
  let count = 0;
  const windows = Math.ceil((ids.length - 1) / seqLen);
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
    options.onProgress?.(start / seqLen + 1, windows);
  }
  const meanNll = nats / count;
  return {
    tokens: count,
    meanNll,
    perplexity: Math.exp(meanNll),
    bitsPerByte: bitsPerByteFromMeanNll(meanNll, count, new TextEncoder().encode(val).length),
  };
}
