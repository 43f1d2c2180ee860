import type { Device } from '@tessera/tensor-webgpu';
import type { DecoderLM } from '@tessera/transformer';
import { type ModelState, readModel, readTokenizer } from '../load.js';
import { type Checkpoint, fileError } from '../run-folder.js';
import { ChatFormat } from './chat-format.js';

/**
 * A chat model of a checkpoint (`sft`, `dpo`, `ppo` wrote it): the language model and its
 * ChatML format. A checkpoint whose tokenizer has no chat tokens (a pretrained model) is refused,
 * naming the file.
 */
export function readChatModel(
  ckpt: Checkpoint<ModelState>,
  device: Device,
): { model: DecoderLM; chat: ChatFormat } {
  const model = readModel(ckpt, device);
  const tokenizer = readTokenizer(ckpt, model.vocabSize);
  try {
    return { model, chat: new ChatFormat(tokenizer) };
  } catch (e) {
    model.dispose();
    throw fileError(`${ckpt.folder}/tokenizer.json`, (e as Error).message);
  }
}
