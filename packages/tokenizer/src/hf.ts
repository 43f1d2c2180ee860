import type { AddedToken } from './added-tokens.js';
import { BytePairModel } from './bpe.js';
import { bytesToVisible, isByteLevel, visibleToBytes } from './bytes.js';
import {
  assignIds,
  f,
  readAddedTokens,
  readTemplate,
  readVocab,
  unsupported,
} from './hf-shared.js';
import { readWordPiece } from './hf-wordpiece.js';
import { translatePattern } from './pattern.js';
import { type PreTokenizerStep, SPLIT_BEHAVIORS, type SplitBehavior } from './pre-tokenizer.js';
import { Tokenizer, type TokenizerConfig } from './tokenizer.js';
import type { WordPieceTokenizer } from './wordpiece.js';

/** One pre-tokenizer step (`Split` or `ByteLevel`). */
function readStep(value: unknown, path: string): PreTokenizerStep {
  const s = f.object(value, path);
  const type = f.type(s, path);
  if (type === 'ByteLevel')
    return {
      type,
      addPrefixSpace: f.boolean(s.add_prefix_space, `${path}.add_prefix_space`),
      useRegex: f.boolean(s.use_regex, `${path}.use_regex`, true),
    };
  if (type === 'Split') {
    const pattern = f.object(s.pattern, `${path}.pattern`);
    const literal = 'String' in pattern;
    const source = literal
      ? f.string(pattern.String, `${path}.pattern.String`)
      : f.string(pattern.Regex, `${path}.pattern.Regex`);
    const behavior = f.string(s.behavior, `${path}.behavior`);
    if (!SPLIT_BEHAVIORS.includes(behavior as SplitBehavior))
      throw f.error(
        `${path}.behavior`,
        `must be one of ${SPLIT_BEHAVIORS.join(', ')}, got ${JSON.stringify(behavior)}`,
      );
    return {
      type,
      pattern: source,
      literal,
      behavior: behavior as SplitBehavior,
      invert: f.boolean(s.invert, `${path}.invert`, false),
    };
  }
  throw unsupported('pre_tokenizer', type);
}

/**
 * The pre-tokenizer steps: ByteLevel, or a Sequence of Splits ending with ByteLevel (the bytes
 * of a byte-level BPE are what its vocabulary spells).
 */
function readPreTokenizer(value: unknown): PreTokenizerStep[] {
  const p = f.object(value, 'pre_tokenizer');
  const steps =
    f.type(p, 'pre_tokenizer') === 'Sequence'
      ? f
          .array(p.pretokenizers, 'pre_tokenizer.pretokenizers')
          .map((s, i) => readStep(s, `pre_tokenizer.pretokenizers[${i}]`))
      : [readStep(p, 'pre_tokenizer')];
  if (steps.at(-1)?.type !== 'ByteLevel')
    throw f.error(
      'pre_tokenizer',
      'must end with a ByteLevel step: only byte-level BPE is supported',
    );
  return steps;
}

function readNormalizer(n: unknown): 'NFC' | undefined {
  if (n === null || n === undefined) return undefined;
  const o = f.object(n, 'normalizer');
  const type = f.type(o, 'normalizer');
  if (type === 'NFC') return 'NFC';
  if (type === 'Sequence' && f.array(o.normalizers, 'normalizer.normalizers').length === 0)
    return undefined;
  throw unsupported('normalizer', type);
}

/** The decoder of a byte-level BPE: ByteLevel (alone or in a Sequence), or none. */
function readDecoder(d: unknown, path = 'decoder'): void {
  if (d === null || d === undefined) return;
  const o = f.object(d, path);
  const type = f.type(o, path);
  if (type === 'ByteLevel') return;
  if (type === 'Sequence') {
    for (const [i, step] of f.array(o.decoders, `${path}.decoders`).entries())
      readDecoder(step, `${path}.decoders[${i}]`);
    return;
  }
  throw unsupported('decoder', type);
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

/** `model.merges` ("a b" strings or ["a", "b"] pairs) as merge key → rank; both parts and the result must be tokens. */
function readMerges(value: unknown, encoder: ReadonlyMap<string, number>): Map<string, number> {
  const merges = new Map<string, number>();
  if (value === undefined) return merges; // no merges: every piece encodes byte by byte
  for (const [rank, m] of f.array(value, 'model.merges').entries()) {
    const path = `model.merges[${rank}]`;
    const parts =
      typeof m === 'string'
        ? m.split(' ')
        : f.array(m, path).map((p, k) => f.string(p, `${path}[${k}]`));
    if (parts.length !== 2 || !parts[0] || !parts[1])
      throw f.error(path, `must be two tokens ("a b" or ["a", "b"]), got ${JSON.stringify(m)}`);
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
 * Loads a Hugging Face `tokenizer.json`: byte-level BPE (GPT-2, Llama-3, Qwen style) or WordPiece
 * (BERT: BertNormalizer, BertPreTokenizer, WordPiece decoder). A component this loader does not
 * implement is an error naming its type, and a malformed field an error naming its path — never
 * a silent approximation.
 *
 * Added tokens keep their Hugging Face flags (`lstrip`, `rstrip`, `single_word`, `normalized`)
 * and get the ids Hugging Face gives them on load, whatever `id` the file writes: a content
 * that is a vocabulary entry takes that entry's id (Hugging Face warns), any other the next free
 * one as Hugging Face counts. In a BPE, special ones are matched only when allowed, as in
 * tiktoken's policy (pass `allowedSpecial: 'all'` for Hugging Face's default behaviour), the
 * others always; a WordPiece matches all of them always, as Hugging Face does. `Split`
 * pre-tokenizers support every behaviour and `invert`. A file without `merges` encodes byte by
 * byte.
 *
 * @throws Error - invalid JSON, an unsupported component, a malformed field (named by its path),
 *   an added token repeated with other flags, or two tokens given one id
 * @throws SyntaxError - a split pattern that does not compile or can backtrack exponentially
 */
export function fromHuggingFaceJson(text: string): Tokenizer | WordPieceTokenizer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`tokenizer.json: not valid JSON (${(e as Error).message})`);
  }
  const json = f.object(parsed, 'the file');
  const model = f.object(json.model, 'model');
  const entries = readAddedTokens(json.added_tokens);
  const type = f.type(model, 'model');
  if (type === 'WordPiece') return readWordPiece(json, model, entries);
  if (type !== 'BPE') throw unsupported('model', type);
  if (f.boolean(model.byte_fallback, 'model.byte_fallback', false))
    throw new Error(
      'tokenizer.json: BPE with byte_fallback (SentencePiece-style) is not supported',
    );
  if (model.dropout !== undefined && model.dropout !== null)
    throw f.error(
      'model.dropout',
      `is ${JSON.stringify(model.dropout)}: BPE dropout is not supported`,
    );
  if (model.continuing_subword_prefix || model.end_of_word_suffix)
    throw new Error(
      'tokenizer.json: BPE with subword prefixes/suffixes is not byte-level; not supported',
    );
  const preTokenizer = readPreTokenizer(json.pre_tokenizer);
  readDecoder(json.decoder);
  const vocab = readVocab(model.vocab);
  const added = assignIds(entries, vocab);
  const encoder = byteLevelEncoder(vocab, added);
  const specialIds = new Map(added.filter((t) => t.special).map((t) => [t.content, t.id]));
  const config: TokenizerConfig = {
    encoder,
    merges: readMerges(model.merges, encoder),
    preTokenizer,
    addedTokens: added,
    name: 'tokenizer.json',
    ignoreMerges: f.boolean(model.ignore_merges, 'model.ignore_merges', false),
    normalize: readNormalizer(json.normalizer),
    template: readTemplate(json.post_processor, (name) => specialIds.get(name)),
    decoder: 'ByteLevel',
  };
  return new Tokenizer(config);
}

/**
 * Merges for a tiktoken-style vocabulary (HF's TikToken converter): every split of a token into
 * two lower-ranked tokens is a merge ranked by the token, so Hugging Face's merge order
 * reproduces tiktoken's encoding.
 */
function mergesFromRanks(ranks: ReadonlyMap<string, number>): [string, string][] {
  const merges: [string, string, number, number, number][] = [];
  for (const [token, rank] of ranks) {
    if (token.length < 2) continue;
    for (let i = 1; i < token.length; i++) {
      const a = ranks.get(token.slice(0, i));
      const b = ranks.get(token.slice(i));
      if (a !== undefined && b !== undefined && a < rank && b < rank)
        merges.push([token.slice(0, i), token.slice(i), rank, a, b]);
    }
  }
  merges.sort((x, y) => x[2] - y[2] || x[3] - y[3] || x[4] - y[4]);
  return merges.map(([a, b]) => [a, b]);
}

/**
 * A tiktoken pattern (fancy-regex) as a `Split` pattern, which Hugging Face runs with Oniguruma:
 * refused where the two engines would match differently (`\w`, `^`, `$`, `X{n,m}+`, …).
 */
function splitPattern(pattern: string): string {
  if (translatePattern(pattern, 'fancy-regex') !== translatePattern(pattern, 'oniguruma'))
    throw new Error(
      `toHuggingFaceJson: the pattern ${JSON.stringify(pattern)} means other text under Oniguruma, which Hugging Face runs it with, than under tiktoken's fancy-regex`,
    );
  return pattern;
}

/**
 * Serialises a byte-level BPE tokenizer as a Hugging Face `tokenizer.json` (BPE, ByteLevel).
 *
 * @throws Error - a tiktoken pattern that Oniguruma would read otherwise (see `translatePattern`)
 */
export function toHuggingFaceJson(tok: Tokenizer): string {
  const vocab: Record<string, number> = {};
  for (const [bytes, id] of tok.ranks) vocab[bytesToVisible(bytes)] = id;
  const merges = tok.mergeRanks
    ? [...tok.mergeRanks]
        .sort((a, b) => a[1] - b[1])
        .map(([key]) => key.split('\u0100').map(bytesToVisible))
    : mergesFromRanks(tok.ranks).map(([a, b]) => [bytesToVisible(a), bytesToVisible(b)]);
  const added = tok.addedTokens.map((t) => ({
    id: t.id,
    content: t.content,
    single_word: t.singleWord,
    lstrip: t.lstrip,
    rstrip: t.rstrip,
    normalized: t.normalized,
    special: t.special,
  }));
  const template = tok.config.template;
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: tok.config.normalize ? { type: 'NFC' } : null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: (
        tok.config.preTokenizer ?? [
          {
            type: 'Split',
            pattern: splitPattern(tok.pattern!),
            literal: false,
            behavior: 'Isolated',
            invert: false,
          },
          { type: 'ByteLevel', addPrefixSpace: false, useRegex: false },
        ]
      ).map((step) =>
        step.type === 'Split'
          ? {
              type: 'Split',
              pattern: step.literal ? { String: step.pattern } : { Regex: step.pattern },
              behavior: step.behavior,
              invert: step.invert,
            }
          : {
              type: 'ByteLevel',
              add_prefix_space: step.addPrefixSpace,
              trim_offsets: true,
              use_regex: step.useRegex,
            },
      ),
    },
    post_processor: template
      ? {
          type: 'TemplateProcessing',
          single: [
            ...template.before.map((id) => ({ SpecialToken: { id, type_id: 0 } })),
            { Sequence: { id: 'A', type_id: 0 } },
            ...template.after.map((id) => ({ SpecialToken: { id, type_id: 0 } })),
          ],
          pair: [],
          special_tokens: Object.fromEntries(
            [...template.before, ...template.after].map((t) => [
              t,
              { id: t, ids: [tok.specialId(t)], tokens: [t] },
            ]),
          ),
        }
      : { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: tok.config.ignoreMerges ?? !tok.mergeRanks,
      vocab,
      merges,
    },
  };
  return JSON.stringify(json, null, 1);
}
