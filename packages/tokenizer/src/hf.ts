import { BytePairModel } from './bpe.js';
import { bytesToVisible, visibleToBytes } from './bytes.js';
import { GPT2_PATTERN } from './pattern.js';
import { Tokenizer, type TokenizerConfig } from './tokenizer.js';
import { WordPieceTokenizer } from './wordpiece.js';

type Json = Record<string, unknown>;

function unsupported(where: string, type: unknown): Error {
  return new Error(`tokenizer.json: unsupported ${where} type ${JSON.stringify(type)}`);
}

function obj(value: unknown, where: string): Json {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`tokenizer.json: ${where} must be an object`);
  return value as Json;
}

/** Split pattern, prefix-space flag from a byte-level pre_tokenizer (ByteLevel or Sequence[Split, ByteLevel]). */
function readPreTokenizer(pre: unknown): { pattern: string; addPrefixSpace: boolean } {
  const p = obj(pre, 'pre_tokenizer');
  if (p.type === 'ByteLevel')
    return {
      pattern: p.use_regex === false ? '' : GPT2_PATTERN,
      addPrefixSpace: p.add_prefix_space === true,
    };
  if (p.type === 'Sequence') {
    let pattern = '';
    let addPrefixSpace = false;
    for (const step of (p.pretokenizers as unknown[]) ?? []) {
      const s = obj(step, 'pre_tokenizer step');
      if (s.type === 'Split') {
        const regex = obj(s.pattern, 'Split.pattern');
        if (typeof regex.Regex !== 'string')
          throw new Error('tokenizer.json: Split pre_tokenizer needs pattern.Regex');
        if (s.behavior !== 'Isolated' || s.invert === true)
          throw new Error(
            `tokenizer.json: unsupported Split behavior ${JSON.stringify(s.behavior)}${s.invert ? ' (inverted)' : ''}; only Isolated is supported`,
          );
        if (pattern)
          throw new Error('tokenizer.json: more than one Split pre_tokenizer is not supported');
        pattern = regex.Regex;
      } else if (s.type === 'ByteLevel') {
        if (s.use_regex !== false) pattern = pattern || GPT2_PATTERN;
        addPrefixSpace = s.add_prefix_space === true;
      } else throw unsupported('pre_tokenizer', s.type);
    }
    if (!pattern) throw new Error('tokenizer.json: the pre_tokenizer has no split pattern');
    return { pattern, addPrefixSpace };
  }
  throw unsupported('pre_tokenizer', p.type);
}

function readNormalizer(n: unknown): 'NFC' | undefined {
  if (n === null || n === undefined) return undefined;
  const o = obj(n, 'normalizer');
  if (o.type === 'NFC') return 'NFC';
  if (o.type === 'Sequence' && Array.isArray(o.normalizers) && o.normalizers.length === 0)
    return undefined;
  throw unsupported('normalizer', o.type);
}

/** Special tokens a TemplateProcessing puts around a single sequence. */
function readTemplate(post: unknown): { before: string[]; after: string[] } | undefined {
  if (post === null || post === undefined) return undefined;
  const p = obj(post, 'post_processor');
  if (p.type === 'ByteLevel') return undefined; // offset trimming only
  if (p.type === 'Sequence') {
    let found: { before: string[]; after: string[] } | undefined;
    for (const step of (p.processors as unknown[]) ?? []) found = readTemplate(step) ?? found;
    return found;
  }
  if (p.type === 'TemplateProcessing') {
    const before: string[] = [];
    const after: string[] = [];
    let seen = false;
    for (const piece of (p.single as unknown[]) ?? []) {
      const item = obj(piece, 'TemplateProcessing.single item');
      if ('Sequence' in item) seen = true;
      else if ('SpecialToken' in item)
        (seen ? after : before).push(String(obj(item.SpecialToken, 'SpecialToken').id));
    }
    return { before, after };
  }
  throw unsupported('post_processor', p.type);
}

function readDecoder(d: unknown): void {
  if (d === null || d === undefined) return;
  const o = obj(d, 'decoder');
  if (o.type === 'ByteLevel') return;
  if (o.type === 'Sequence') {
    for (const step of (o.decoders as unknown[]) ?? []) readDecoder(step);
    return;
  }
  throw unsupported('decoder', o.type);
}

function readAddedTokens(list: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of (list as Json[]) ?? []) out[String(t.content)] = Number(t.id);
  return out;
}

/**
 * Loads a Hugging Face `tokenizer.json`: byte-level BPE (GPT-2, Llama-3, Qwen style) or WordPiece
 * (BERT). A component this loader does not implement is an error naming its type — never a
 * silent approximation. Added tokens become special tokens (matched only when allowed, as in
 * tiktoken's policy: pass `allowedSpecial: 'all'` for Hugging Face's default behaviour).
 */
export function fromHuggingFaceJson(text: string): Tokenizer | WordPieceTokenizer {
  let json: Json;
  try {
    json = obj(JSON.parse(text), 'the file');
  } catch (e) {
    throw new Error(`tokenizer.json: not valid JSON (${(e as Error).message})`);
  }
  const model = obj(json.model, 'model');
  const specials = readAddedTokens(json.added_tokens);
  if (model.type === 'WordPiece') return WordPieceTokenizer.fromHuggingFace(json, specials);
  if (model.type !== 'BPE') throw unsupported('model', model.type);
  if (model.byte_fallback === true)
    throw new Error(
      'tokenizer.json: BPE with byte_fallback (SentencePiece-style) is not supported',
    );
  if (model.continuing_subword_prefix || model.end_of_word_suffix)
    throw new Error(
      'tokenizer.json: BPE with subword prefixes/suffixes is not byte-level; not supported',
    );
  const { pattern, addPrefixSpace } = readPreTokenizer(json.pre_tokenizer);
  readDecoder(json.decoder);
  const vocab = obj(model.vocab, 'model.vocab');
  const encoder = new Map<string, number>();
  for (const [token, id] of Object.entries(vocab)) {
    if (token in specials) continue;
    encoder.set(visibleToBytes(token, 'tokenizer.json vocab'), Number(id));
  }
  const merges = new Map<string, number>();
  for (const [rank, m] of ((model.merges as unknown[]) ?? []).entries()) {
    const [a, b] = typeof m === 'string' ? m.split(' ') : (m as string[]);
    if (a === undefined || b === undefined)
      throw new Error(`tokenizer.json: merge ${rank} is malformed: ${JSON.stringify(m)}`);
    merges.set(
      BytePairModel.mergeKey(
        visibleToBytes(a, 'tokenizer.json merges'),
        visibleToBytes(b, 'tokenizer.json merges'),
      ),
      rank,
    );
  }
  const config: TokenizerConfig = {
    encoder,
    merges,
    pattern,
    specialTokens: specials,
    name: 'tokenizer.json',
    ignoreMerges: model.ignore_merges === true,
    normalize: readNormalizer(json.normalizer),
    addPrefixSpace,
    template: readTemplate(json.post_processor),
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

/** Serialises a byte-level BPE tokenizer as a Hugging Face `tokenizer.json` (BPE, ByteLevel). */
export function toHuggingFaceJson(tok: Tokenizer): string {
  const vocab: Record<string, number> = {};
  for (const [bytes, id] of tok.ranks) vocab[bytesToVisible(bytes)] = id;
  const merges = tok.mergeRanks
    ? [...tok.mergeRanks]
        .sort((a, b) => a[1] - b[1])
        .map(([key]) => key.split('\u0100').map(bytesToVisible))
    : mergesFromRanks(tok.ranks).map(([a, b]) => [bytesToVisible(a), bytesToVisible(b)]);
  const added = Object.entries(tok.specialTokens).map(([content, id]) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
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
      pretokenizers: [
        { type: 'Split', pattern: { Regex: tok.pattern }, behavior: 'Isolated', invert: false },
        {
          type: 'ByteLevel',
          add_prefix_space: tok.config.addPrefixSpace ?? false,
          trim_offsets: true,
          use_regex: false,
        },
      ],
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
