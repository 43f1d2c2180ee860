/** A Hugging Face `tokenizer.json` whose model is WordPiece (BERT), read into a `WordPieceTokenizer`. */
import type { BertNormalizerOptions } from './bert.js';
import {
  type AddedTokenEntry,
  assignIds,
  f,
  readTemplate,
  readVocab,
  unsupported,
} from './hf-shared.js';
import type { Json } from './json-fields.js';
import { type WordPieceDecoder, WordPieceTokenizer } from './wordpiece.js';

/** The BertNormalizer's flags; no normalizer is one with every step off. */
function readBertNormalizer(value: unknown): BertNormalizerOptions {
  if (value === null || value === undefined)
    return { cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false };
  const n = f.object(value, 'normalizer');
  const type = f.type(n, 'normalizer');
  if (type !== 'BertNormalizer') throw unsupported('normalizer (with WordPiece)', type);
  const lowercase = f.boolean(n.lowercase, 'normalizer.lowercase', true);
  return {
    cleanText: f.boolean(n.clean_text, 'normalizer.clean_text', true),
    handleChineseChars: f.boolean(n.handle_chinese_chars, 'normalizer.handle_chinese_chars', true),
    // null: follow lowercase, as Hugging Face does
    stripAccents: f.boolean(n.strip_accents, 'normalizer.strip_accents', lowercase),
    lowercase,
  };
}

/** The WordPiece decoder, or null for none (Hugging Face then joins tokens with spaces). */
function readWordPieceDecoder(value: unknown): WordPieceDecoder | null {
  if (value === null || value === undefined) return null;
  const d = f.object(value, 'decoder');
  const type = f.type(d, 'decoder');
  if (type !== 'WordPiece') throw unsupported('decoder (with WordPiece)', type);
  return {
    prefix: d.prefix === undefined ? '##' : f.string(d.prefix, 'decoder.prefix'),
    cleanup: f.boolean(d.cleanup, 'decoder.cleanup', true),
  };
}

/**
 * A WordPiece `tokenizer.json`: BertNormalizer (or none), BertPreTokenizer, WordPiece model,
 * WordPiece decoder (or none), TemplateProcessing or BertProcessing; added tokens with their
 * flags and the ids Hugging Face gives them.
 *
 * @throws Error - another component (named by its type), or a malformed field (named by its path)
 */
export function readWordPiece(
  json: Json,
  model: Json,
  entries: readonly AddedTokenEntry[],
): WordPieceTokenizer {
  const pre = json.pre_tokenizer;
  const preType =
    pre === null || pre === undefined
      ? pre
      : f.type(f.object(pre, 'pre_tokenizer'), 'pre_tokenizer');
  if (preType !== 'BertPreTokenizer') throw unsupported('pre_tokenizer (with WordPiece)', preType);
  const vocab = readVocab(model.vocab);
  const addedTokens = assignIds(entries, vocab);
  const specialIds = new Map(addedTokens.filter((t) => t.special).map((t) => [t.content, t.id]));
  const str = (value: unknown, path: string, fallback: string) =>
    value === undefined || value === null ? fallback : f.string(value, path);
  const max = model.max_input_chars_per_word;
  return new WordPieceTokenizer({
    vocab,
    unkToken: str(model.unk_token, 'model.unk_token', '[UNK]'),
    prefix: str(model.continuing_subword_prefix, 'model.continuing_subword_prefix', '##'),
    maxInputCharsPerWord:
      max === undefined || max === null ? 100 : f.id(max, 'model.max_input_chars_per_word'),
    ...readBertNormalizer(json.normalizer),
    addedTokens,
    template: readTemplate(json.post_processor, (name) => specialIds.get(name) ?? vocab.get(name)),
    decoder: readWordPieceDecoder(json.decoder),
  });
}
