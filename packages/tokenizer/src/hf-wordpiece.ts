/** A Hugging Face `tokenizer.json` whose model is WordPiece (BERT), read into a `WordPieceTokenizer`. */
import type { BertNormalizerOptions } from './bert.js';
import { type AddedTokenEntry, assignIds, f, readTemplate, readVocab } from './hf-shared.js';
import type { Json } from './json-fields.js';
import { type WordPieceDecoder, WordPieceTokenizer } from './wordpiece.js';

const WITH_WORDPIECE = ' with a WordPiece model';

/** The BertNormalizer's flags (`strip_accents` null or missing: as `lowercase`); no normalizer is one with every step off. */
function readBertNormalizer(value: unknown): BertNormalizerOptions {
  if (value === null || value === undefined)
    return { cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false };
  const n = f.object(value, 'normalizer');
  const type = f.type(n, 'normalizer');
  if (type !== 'BertNormalizer') throw f.unsupported('normalizer', type, WITH_WORDPIECE);
  const lowercase = f.boolean(n.lowercase, 'normalizer.lowercase');
  return {
    cleanText: f.boolean(n.clean_text, 'normalizer.clean_text'),
    handleChineseChars: f.boolean(n.handle_chinese_chars, 'normalizer.handle_chinese_chars'),
    stripAccents:
      f.optional(n.strip_accents, (v) => f.boolean(v, 'normalizer.strip_accents')) ?? lowercase,
    lowercase,
  };
}

/** The WordPiece decoder, or null for none (Hugging Face then joins tokens with spaces). */
function readWordPieceDecoder(value: unknown): WordPieceDecoder | null {
  if (value === null || value === undefined) return null;
  const d = f.object(value, 'decoder');
  const type = f.type(d, 'decoder');
  if (type !== 'WordPiece') throw f.unsupported('decoder', type, WITH_WORDPIECE);
  return {
    prefix: f.string(d.prefix, 'decoder.prefix'),
    cleanup: f.boolean(d.cleanup, 'decoder.cleanup'),
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
  if (pre === null || pre === undefined)
    throw f.error(
      'pre_tokenizer',
      'is missing: a WordPiece needs BertPreTokenizer here (not supported otherwise)',
    );
  const preType = f.type(f.object(pre, 'pre_tokenizer'), 'pre_tokenizer');
  if (preType !== 'BertPreTokenizer') throw f.unsupported('pre_tokenizer', preType, WITH_WORDPIECE);
  const vocab = readVocab(model.vocab);
  const addedTokens = assignIds(entries, vocab);
  const specialIds = new Map(addedTokens.filter((t) => t.special).map((t) => [t.content, t.id]));
  return new WordPieceTokenizer({
    vocab,
    unkToken: f.string(model.unk_token, 'model.unk_token'),
    prefix: f.string(model.continuing_subword_prefix, 'model.continuing_subword_prefix'),
    maxInputCharsPerWord: f.usize(model.max_input_chars_per_word, 'model.max_input_chars_per_word'),
    ...readBertNormalizer(json.normalizer),
    addedTokens,
    template: readTemplate(json.post_processor, (name) => specialIds.get(name) ?? vocab.get(name)),
    decoder: readWordPieceDecoder(json.decoder),
  });
}
