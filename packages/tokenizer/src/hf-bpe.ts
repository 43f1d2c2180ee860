/**
 * A Hugging Face `tokenizer.json` whose model is a byte-level BPE (GPT-2, Llama-3, Qwen style),
 * read into a `Tokenizer`; each field is checked as Hugging Face reads it
 * (`models/bpe/serialization.rs`, the pre-tokenizer, normalizer and decoder structs).
 */
import type { AddedToken } from './added-tokens.js';
import { BytePairModel } from './bpe.js';
import { isByteLevel, visibleToBytes } from './bytes.js';
import {
  type AddedTokenEntry,
  assignIds,
  f,
  readByteLevel,
  readTemplate,
  readVocab,
  sequenceItems,
} from './hf-shared.js';
import type { Json } from './json-fields.js';
import { compilePattern } from './pattern.js';
import { type PreTokenizerStep, SPLIT_BEHAVIORS } from './pre-tokenizer.js';
import { Tokenizer } from './tokenizer.js';

/** One pre-tokenizer step (`Split` or `ByteLevel`). */
function readStep(s: Json, path: string): PreTokenizerStep {
  const type = f.type(s, path);
  if (type === 'ByteLevel') return { type, ...readByteLevel(s, path) };
  if (type === 'Split') {
    const pattern = f.object(s.pattern, `${path}.pattern`);
    const keys = Object.keys(pattern);
    if (keys.length !== 1 || (keys[0] !== 'String' && keys[0] !== 'Regex'))
      throw f.error(
        `${path}.pattern`,
        `must be {"String": text} or {"Regex": pattern}, got the keys ${JSON.stringify(keys)}`,
      );
    const at = `${path}.pattern.${keys[0]}`;
    const source = f.string(pattern[keys[0]], at);
    const literal = keys[0] === 'String';
    if (!literal)
      try {
        // Compiled once here to name the field in an error (the pre-tokenizer compiles it again).
        compilePattern(source, 'oniguruma');
      } catch (e) {
        throw new SyntaxError(`tokenizer.json: ${at} ${(e as Error).message}`);
      }
    return {
      type,
      pattern: source,
      literal,
      behavior: f.variant(s.behavior, `${path}.behavior`, SPLIT_BEHAVIORS),
      invert: f.boolean(s.invert, `${path}.invert`),
    };
  }
  throw f.unsupported(path, type);
}

/**
 * The pre-tokenizer steps: ByteLevel, or a Sequence of Splits ending with ByteLevel (the bytes
 * of a byte-level BPE are what its vocabulary spells).
 */
function readPreTokenizer(value: unknown): PreTokenizerStep[] {
  if (value === null || value === undefined)
    throw f.error(
      'pre_tokenizer',
      'is missing: only byte-level BPE (ending with ByteLevel) is supported',
    );
  const p = f.object(value, 'pre_tokenizer');
  const steps =
    f.type(p, 'pre_tokenizer') === 'Sequence'
      ? sequenceItems(p, 'pre_tokenizer', 'pretokenizers').map(([s, at]) => readStep(s, at))
      : [readStep(p, 'pre_tokenizer')];
  if (steps.at(-1)?.type !== 'ByteLevel')
    throw f.error(
      'pre_tokenizer',
      'must end with a ByteLevel step: only byte-level BPE is supported',
    );
  return steps;
}

/** NFC, a Sequence of NFCs (or of nothing), or none. */
function readNormalizer(n: unknown, path = 'normalizer'): 'NFC' | undefined {
  if (n === null || n === undefined) return undefined;
  const o = f.object(n, path);
  const type = f.type(o, path);
  if (type === 'NFC') return 'NFC';
  if (type === 'Sequence') {
    const steps = sequenceItems(o, path, 'normalizers').map(([s, at]) => readNormalizer(s, at));
    return steps.includes('NFC') ? 'NFC' : undefined;
  }
  throw f.unsupported(path, type);
}

/** The decoder of a byte-level BPE: ByteLevel (alone or in a Sequence), or none. */
function readDecoder(d: unknown, path = 'decoder'): void {
  if (d === null || d === undefined) return;
  const o = f.object(d, path);
  const type = f.type(o, path);
  if (type === 'ByteLevel') readByteLevel(o, path);
  else if (type === 'Sequence')
    for (const [step, at] of sequenceItems(o, path, 'decoders')) readDecoder(step, at);
  else throw f.unsupported(path, type);
}

/**
 * A byte-level vocabulary as byte string → id. An entry that is an added token's content and
 * is not spelt in the byte-level alphabet belongs to the added token alone (no merge makes it).
 */
function byteLevelEncoder(
  vocab: ReadonlyMap<string, number>,
  added: readonly AddedToken[],
): Map<string, number> {
  const addedContents = new Set(added.map((t) => t.content));
  const encoder = new Map<string, number>();
  for (const [token, id] of vocab) {
    if (addedContents.has(token) && !isByteLevel(token)) continue;
    encoder.set(visibleToBytes(token, `tokenizer.json: model.vocab[${JSON.stringify(token)}]`), id);
  }
  return encoder;
}

/** One merge's two parts: `"a b"` (one space) or `["a", "b"]`. */
function mergeParts(m: unknown, path: string, strings: boolean): string[] {
  const parts = strings
    ? f.string(m, path).split(' ')
    : f.array(m, path).map((p, k) => f.string(p, `${path}[${k}]`));
  if (parts.length !== 2)
    throw f.error(path, `must be two tokens ("a b" or ["a", "b"]), got ${JSON.stringify(m)}`);
  return parts;
}

/**
 * `model.merges` as merge key → rank: all `"a b"` strings (Hugging Face skips those starting
 * with `#version`) or all `["a", "b"]` pairs; both parts and the result must be tokens.
 */
function readMerges(value: unknown, encoder: ReadonlyMap<string, number>): Map<string, number> {
  const list = f.array(value, 'model.merges');
  const strings = typeof list[0] === 'string';
  const merges = new Map<string, number>();
  for (const [rank, m] of list.entries()) {
    const path = `model.merges[${rank}]`;
    if (strings && typeof m === 'string' && m.startsWith('#version')) continue;
    const parts = mergeParts(m, path, strings);
    const [a, b] = parts.map((p) => visibleToBytes(p, `tokenizer.json: ${path}`)) as [
      string,
      string,
    ];
    for (const [part, bytes] of [
      [parts[0], a],
      [parts[1], b],
      [parts.join(''), a + b],
    ] as const)
      if (!encoder.has(bytes))
        throw f.error(
          path,
          `${JSON.stringify(m)} needs ${JSON.stringify(part)}, which is not in model.vocab`,
        );
    merges.set(BytePairModel.mergeKey(a, b), rank);
  }
  return merges;
}

/**
 * The BPE model's options: those a byte-level BPE does not use are refused when set (dropout,
 * byte fallback, subword prefix and suffix), the others checked.
 */
function readOptions(model: Json): { ignoreMerges: boolean } {
  const dropout = f.optional(model.dropout, (v) => f.number(v, 'model.dropout'));
  if (dropout !== undefined && !(dropout >= 0 && dropout <= 1))
    throw f.error('model.dropout', `must be from 0 to 1, got ${dropout}`);
  if (dropout) throw f.error('model.dropout', `is ${dropout}: BPE dropout is not supported`);
  if (f.optional(model.byte_fallback, (v) => f.boolean(v, 'model.byte_fallback')))
    throw f.error(
      'model.byte_fallback',
      'is true: byte fallback (SentencePiece-style) is not supported',
    );
  for (const key of ['continuing_subword_prefix', 'end_of_word_suffix'])
    if (f.optional(model[key], (v) => f.string(v, `model.${key}`)))
      throw f.error(
        `model.${key}`,
        'is set: subword prefixes and suffixes are not byte-level; not supported',
      );
  f.optional(model.unk_token, (v) => f.string(v, 'model.unk_token')); // every byte is a token
  f.optional(model.fuse_unk, (v) => f.boolean(v, 'model.fuse_unk'));
  return {
    ignoreMerges:
      f.optional(model.ignore_merges, (v) => f.boolean(v, 'model.ignore_merges')) ?? false,
  };
}

/**
 * A byte-level BPE `tokenizer.json`: ByteLevel pre-tokenizer (alone or after Splits), NFC
 * normalizer or none, ByteLevel decoder or none, any supported post-processor.
 *
 * @throws Error - another component (named by its type), or a malformed field (named by its path)
 */
export function readBpe(json: Json, model: Json, entries: readonly AddedTokenEntry[]): Tokenizer {
  const { ignoreMerges } = readOptions(model);
  const preTokenizer = readPreTokenizer(json.pre_tokenizer);
  const normalize = readNormalizer(json.normalizer);
  readDecoder(json.decoder);
  if (model.vocab === undefined || model.merges === undefined)
    throw f.error(
      model.vocab === undefined ? 'model.vocab' : 'model.merges',
      'is missing (Hugging Face needs both vocab and merges)',
    );
  const vocab = readVocab(model.vocab);
  const added = assignIds(entries, vocab);
  const encoder = byteLevelEncoder(vocab, added);
  const specialIds = new Map(added.filter((t) => t.special).map((t) => [t.content, t.id]));
  return new Tokenizer({
    encoder,
    merges: readMerges(model.merges, encoder),
    preTokenizer,
    addedTokens: added,
    name: 'tokenizer.json',
    ignoreMerges,
    normalize,
    template: readTemplate(json.post_processor, (name) => specialIds.get(name)),
    decoder: 'ByteLevel',
  });
}
