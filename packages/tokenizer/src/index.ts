/**
 * @packageDocumentation
 * Byte-level BPE tokenizers: encode exactly like tiktoken and Hugging Face for the same files,
 * train new vocabularies fast, stream-decode, and format chats.
 */

export type { AddedToken } from './added-tokens.js';
export { checkBacktracking } from './backtracking.js';
export type { BertNormalizerOptions } from './bert.js';
export {
  applyChatTemplate,
  CHAT_SPECIAL_TOKENS,
  type ChatMessage,
  type ChatTemplate,
} from './chat.js';
export { fromHuggingFaceJson, toHuggingFaceJson } from './hf.js';
export type { Json } from './json-fields.js';
export {
  CL100K_PATTERN,
  compilePattern,
  GPT2_PATTERN,
  O200K_PATTERN,
  type PatternEngine,
  translatePattern,
} from './pattern.js';
export type { PreTokenizerStep, SplitBehavior } from './pre-tokenizer.js';
export { StreamDecoder } from './stream.js';
export {
  ENCODINGS,
  type EncodingName,
  formatTiktokenRanks,
  fromTiktoken,
  parseTiktokenRanks,
} from './tiktoken-file.js';
export {
  type DecodeOptions,
  type EncodeOptions,
  Tokenizer,
  type TokenizerConfig,
  type TokenSpan,
} from './tokenizer.js';
export type { TokenizerLike } from './tokenizer-like.js';
export { type TrainOptions, trainBpe } from './train.js';
export {
  type WordPieceDecoder,
  type WordPieceOptions,
  WordPieceTokenizer,
} from './wordpiece.js';
