/**
 * Hugging Face `tokenizer.json` files: `fromHuggingFaceJson` reads one (the model's reader in
 * `hf-bpe.ts` or `hf-wordpiece.ts`), `toHuggingFaceJson` writes a byte-level BPE.
 */
import { bytesToVisible } from './bytes.js';
import { readBpe } from './hf-bpe.js';
import { checkParams } from './hf-params.js';
import { f, readAddedTokens } from './hf-shared.js';
import { readWordPiece } from './hf-wordpiece.js';
import { translatePattern } from './pattern.js';
import type { Tokenizer } from './tokenizer.js';
import type { WordPieceTokenizer } from './wordpiece.js';

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
 * pre-tokenizers support every behaviour and `invert`, and run their patterns as Oniguruma does.
 *
 * Every field is checked as Hugging Face (`tokenizers` 0.23) reads it — types, required and
 * optional fields, u32 ids, enum names — and a file it refuses is refused here, naming the
 * field; a BPE needs both `vocab` and `merges`. `version`, `truncation` and `padding` are
 * checked and not applied. Refused here though Hugging Face loads them: an added token with
 * empty content, two tokens with one id, and components this package does not implement.
 *
 * @throws Error - invalid JSON, an unsupported component, a malformed field (named by its path),
 *   an added token repeated with other flags, or two tokens given one id
 * @throws SyntaxError - a split pattern outside the supported syntax, or that can backtrack
 *   catastrophically (see `checkBacktracking`), named by its field
 */
export function fromHuggingFaceJson(text: string): Tokenizer | WordPieceTokenizer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(`tokenizer.json: not valid JSON (${(e as Error).message})`);
  }
  const json = f.object(parsed, 'the file');
  checkParams(json);
  const entries = readAddedTokens(json.added_tokens);
  if (json.model === undefined) throw f.error('model', 'is missing');
  const model = f.object(json.model, 'model');
  // Without a type, Hugging Face tries each model in turn: a BPE needs merges.
  const type =
    model.type === undefined ? ('merges' in model ? 'BPE' : 'WordPiece') : f.type(model, 'model');
  if (type === 'BPE') return readBpe(json, model, entries);
  if (type === 'WordPiece') return readWordPiece(json, model, entries);
  throw f.unsupported('model', type);
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
