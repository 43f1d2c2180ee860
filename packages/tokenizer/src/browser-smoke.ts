import { applyChatTemplate, trainBpe } from './index.js';

/**
 * The README example, run by the browser test in headless Chromium and in Node: BPE training,
 * encode/decode, a ChatML prompt with special tokens, and streaming decode of multi-byte text.
 */
export default async function browserSmoke(): Promise<Record<string, unknown>> {
  const text = 'To be, or not to be, that is the question. '.repeat(200);
  const tok = trainBpe([text], { vocabSize: 300, specialTokens: ['<|im_start|>', '<|im_end|>'] });
  const ids = Array.from(tok.encode('To be, or not to be?'));
  const chat = applyChatTemplate([{ role: 'user', content: 'Is that the question?' }], 'chatml', {
    addGenerationPrompt: true,
  });
  const stream = tok.streamDecoder();
  const streamed = [...tok.encode('naïve 😀')].map((id) => stream.push(id)).join('') + stream.end();
  return {
    ids,
    decoded: tok.decode(ids),
    chatIds: Array.from(tok.encode(chat, { allowedSpecial: 'all' })),
    streamed,
  };
}
