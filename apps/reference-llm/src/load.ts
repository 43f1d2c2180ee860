import { type GenerateStreamOptions, generateText } from '@tessera/sampler';
import type { Device } from '@tessera/tensor-webgpu';
import { fromHuggingFaceJson, type Tokenizer } from '@tessera/tokenizer';
import { DecoderLM } from '@tessera/transformer';
import { FILES, readCheckpointFile, readCheckpointJson } from './checkpoint.js';

/** A trained model and its tokenizer, loaded from a checkpoint folder. */
export function loadCheckpoint(
  dir: string,
  device?: Device,
): { model: DecoderLM; tokenizer: Tokenizer } {
  const config = readCheckpointJson<{ model: ConstructorParameters<typeof DecoderLM>[0] }>(
    dir,
    FILES.config,
  );
  if (!config.model) throw new Error(`checkpoint ${dir}: ${FILES.config} has no model config`);
  const tokenizer = fromHuggingFaceJson(
    readCheckpointFile(dir, FILES.tokenizer).toString('utf8'),
  ) as Tokenizer;
  const model = new DecoderLM(config.model, device);
  try {
    model.load(new Uint8Array(readCheckpointFile(dir, FILES.model)));
  } catch (e) {
    throw new Error(
      `checkpoint ${dir}: ${FILES.model} is corrupt or does not match the config (${(e as Error).message})`,
    );
  }
  model.eval();
  return { model, tokenizer };
}

/** Streams a completion of `prompt` from a checkpoint, calling `onText` with each piece. */
export async function complete(
  dir: string,
  prompt: string,
  options: GenerateStreamOptions & { onText?: (s: string) => void; device?: Device },
): Promise<string> {
  const { device, ...generateOptions } = options;
  const { model, tokenizer } = loadCheckpoint(dir, device);
  return generateText(model, tokenizer, prompt, generateOptions);
}
