import { applyChatTemplate, trainBpe } from '@tessera/tokenizer';

// Train a small byte-level BPE vocabulary (GPT-2 split pattern) on any text.
const text = 'To be, or not to be, that is the question. '.repeat(200);
const tok = trainBpe([text], { vocabSize: 300, specialTokens: ['<|im_start|>', '<|im_end|>'] });

const ids = tok.encode('To be, or not to be?');
console.log(ids, '->', JSON.stringify(tok.decode(ids)));

// Special tokens are refused unless allowed (tiktoken's policy).
const chat = applyChatTemplate([{ role: 'user', content: 'Is that the question?' }], 'chatml', {
  addGenerationPrompt: true,
});
console.log(tok.encode(chat, { allowedSpecial: 'all' }).length, 'tokens in the chat prompt');

// Streaming decode yields text only at UTF-8 character boundaries.
const stream = tok.streamDecoder();
console.log([...tok.encode('naïve 😀')].map((id) => stream.push(id)).join('') + stream.end());
