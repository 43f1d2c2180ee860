/**
 * The parts of a Hugging Face `tokenizer.json` that every model reads alike: added tokens and
 * the ids Hugging Face gives them, the vocabulary, the post-processor's template, and the
 * ByteLevel and Sequence components; each field checked as Hugging Face reads it.
 */
import type { AddedToken } from './added-tokens.js';
import { type Json, JsonFields } from './json-fields.js';

/** Typed reads of the file's fields, each error naming the field's path. */
export const f = new JsonFields('tokenizer.json');

/**
 * The ByteLevel component (pre-tokenizer, post-processor or decoder: one struct in Hugging
 * Face): `add_prefix_space` and `trim_offsets` required, `use_regex` true when missing.
 */
export function readByteLevel(
  o: Json,
  path: string,
): { addPrefixSpace: boolean; useRegex: boolean } {
  f.boolean(o.trim_offsets, `${path}.trim_offsets`);
  return {
    addPrefixSpace: f.boolean(o.add_prefix_space, `${path}.add_prefix_space`),
    useRegex: f.withDefault(o.use_regex, true, (v) => f.boolean(v, `${path}.use_regex`)),
  };
}

/** The items of a `Sequence` component (`pretokenizers`, `processors`, …), each an object. */
export function sequenceItems(o: Json, path: string, key: string): [Json, string][] {
  return f.array(o[key], `${path}.${key}`).map((item, i) => {
    const at = `${path}.${key}[${i}]`;
    return [f.object(item, at), at];
  });
}

/** The id a template's special token has in the loaded tokenizer, if it is one. */
export type TemplateIds = (name: string) => number | undefined;

/** Checks that a post-processor gives `name` the one id the tokenizer has for it. */
function checkTemplateId(
  name: string,
  ids: readonly number[],
  idOf: TemplateIds,
  path: string,
): void {
  const id = idOf(name);
  if (id === undefined)
    throw f.error(path, `names ${JSON.stringify(name)}, which is not a special token here`);
  if (ids.length !== 1 || ids[0] !== id)
    throw f.error(
      path,
      `is ${JSON.stringify(ids)} for ${JSON.stringify(name)}, whose id here is ${id}: a template token must be that one id (not supported otherwise)`,
    );
}

/** An object holding exactly one of `keys`: that key and its value (a serde enum variant with data). */
function oneKey(value: unknown, path: string, keys: readonly string[]): [string, unknown] {
  const o = f.object(value, path);
  const present = Object.keys(o);
  if (present.length !== 1 || !keys.includes(present[0]!))
    throw f.error(
      path,
      `must hold exactly one of ${keys.map((k) => JSON.stringify(k)).join(', ')}, got ${JSON.stringify(present)}`,
    );
  return [present[0]!, o[present[0]!]];
}

/** A TemplateProcessing template (`single` or `pair`): each piece's special token name, or its sequence (`A` or `B`). */
function readPieces(value: unknown, path: string): { special?: string; sequence?: string }[] {
  return f.array(value, path).map((piece, i) => {
    const at = `${path}[${i}]`;
    const [key, body] = oneKey(piece, at, ['SpecialToken', 'Sequence']);
    const o = f.object(body, `${at}.${key}`);
    f.u32(o.type_id, `${at}.${key}.type_id`);
    return key === 'SpecialToken'
      ? { special: f.string(o.id, `${at}.${key}.id`) }
      : { sequence: f.variant(o.id, `${at}.${key}.id`, ['A', 'B']) };
  });
}

/**
 * Special tokens a TemplateProcessing (or BertProcessing) puts around a single sequence. Hugging
 * Face takes their ids from the post-processor itself; each must be the one id the tokenizer
 * gives that token, or the file is refused. Every field is checked as Hugging Face reads it.
 */
export function readTemplate(
  post: unknown,
  idOf: TemplateIds,
  path = 'post_processor',
): { before: string[]; after: string[] } | undefined {
  if (post === null || post === undefined) return undefined;
  const p = f.object(post, path);
  const type = f.type(p, path);
  if (type === 'ByteLevel') {
    readByteLevel(p, path); // offset trimming only
    return undefined;
  }
  if (type === 'Sequence') {
    let found: { before: string[]; after: string[] } | undefined;
    for (const [step, at] of sequenceItems(p, path, 'processors'))
      found = readTemplate(step, idOf, at) ?? found;
    return found;
  }
  if (type === 'BertProcessing') {
    const [sep, cls] = (['sep', 'cls'] as const).map((key) => {
      const pair = f.array(p[key], `${path}.${key}`);
      if (pair.length !== 2)
        throw f.error(`${path}.${key}`, `must be [token, id], got ${pair.length} items`);
      const name = f.string(pair[0], `${path}.${key}[0]`);
      checkTemplateId(name, [f.u32(pair[1], `${path}.${key}[1]`)], idOf, `${path}.${key}`);
      return name;
    }) as [string, string];
    return { before: [cls], after: [sep] };
  }
  if (type === 'TemplateProcessing') {
    const single = readPieces(p.single, `${path}.single`);
    readPieces(p.pair, `${path}.pair`);
    const specials = f.object(p.special_tokens, `${path}.special_tokens`);
    const ids = new Map<string, number[]>();
    for (const [name, value] of Object.entries(specials)) {
      const at = `${path}.special_tokens[${JSON.stringify(name)}]`;
      const o = f.object(value, at);
      f.string(o.id, `${at}.id`);
      for (const [i, t] of f.array(o.tokens, `${at}.tokens`).entries())
        f.string(t, `${at}.tokens[${i}]`);
      ids.set(
        name,
        f.array(o.ids, `${at}.ids`).map((v, i) => f.u32(v, `${at}.ids[${i}]`)),
      );
    }
    const sequences = single.filter((piece) => piece.sequence !== undefined);
    if (sequences.length !== 1 || sequences[0]!.sequence !== 'A')
      throw f.error(`${path}.single`, 'must hold the sequence "A" once (not supported otherwise)');
    const at = single.indexOf(sequences[0]!);
    const names = (pieces: typeof single) => pieces.map((piece) => piece.special!);
    const template = { before: names(single.slice(0, at)), after: names(single.slice(at + 1)) };
    for (const name of [...template.before, ...template.after]) {
      const entry = ids.get(name);
      const where = `${path}.special_tokens[${JSON.stringify(name)}]`;
      if (!entry)
        throw f.error(
          where,
          'is missing: the template names it (Hugging Face loads such a file and fails when it encodes)',
        );
      checkTemplateId(name, entry, idOf, `${where}.ids`);
    }
    return template;
  }
  throw f.unsupported(path, type);
}

/** One `added_tokens` entry, with where it is in the file. */
export type AddedTokenEntry = AddedToken & { path: string };

/**
 * `added_tokens`: every flag is required, as Hugging Face requires it. An entry that repeats an
 * earlier one exactly is left out, as Hugging Face leaves it out; one that repeats an earlier
 * content with other flags is refused (Hugging Face would keep the first id with the last flags).
 */
export function readAddedTokens(list: unknown): AddedTokenEntry[] {
  if (list === undefined) return [];
  const byContent = new Map<string, AddedTokenEntry>();
  const tokens: AddedTokenEntry[] = [];
  for (const [i, value] of f.array(list, 'added_tokens').entries()) {
    const path = `added_tokens[${i}]`;
    const t = f.object(value, path);
    const token: AddedTokenEntry = {
      id: f.u32(t.id, `${path}.id`),
      content: f.string(t.content, `${path}.content`),
      special: f.boolean(t.special, `${path}.special`),
      singleWord: f.boolean(t.single_word, `${path}.single_word`),
      lstrip: f.boolean(t.lstrip, `${path}.lstrip`),
      rstrip: f.boolean(t.rstrip, `${path}.rstrip`),
      normalized: f.boolean(t.normalized, `${path}.normalized`),
      path,
    };
    if (token.content === '')
      throw f.error(`${path}.content`, 'must not be empty (Hugging Face leaves such an entry out)');
    const earlier = byContent.get(token.content);
    if (earlier) {
      const flags = ['special', 'singleWord', 'lstrip', 'rstrip', 'normalized'] as const;
      if (flags.every((k) => earlier[k] === token[k])) continue;
      throw f.error(
        path,
        `repeats the content ${JSON.stringify(token.content)} of ${earlier.path} with other flags (Hugging Face would keep the first id and the last flags): not supported`,
      );
    }
    byContent.set(token.content, token);
    tokens.push(token);
  }
  return tokens;
}

/**
 * The ids Hugging Face gives added tokens on load (`TokenizerVisitor` in
 * `tokenizer/serialization.rs`, `AddedVocabulary::add_tokens`), where the `id` written in the
 * file only raises a warning when it differs: a token whose content is a vocabulary entry gets
 * that entry's id; any other, in file order, gets the vocabulary's size (its number of
 * entries), or one more than the largest id given so far when that is at least the size.
 *
 * @throws Error - two tokens end up with one id
 */
export function assignIds(
  entries: readonly AddedTokenEntry[],
  vocab: ReadonlyMap<string, number>,
): AddedToken[] {
  let max: number | undefined;
  const owner = new Map<number, string>();
  return entries.map(({ path, ...token }) => {
    let id = vocab.get(token.content);
    if (id === undefined) id = max !== undefined && max >= vocab.size ? max + 1 : vocab.size;
    max = Math.max(max ?? id, id);
    const other = owner.get(id);
    if (other !== undefined)
      throw f.error(
        path,
        `${JSON.stringify(token.content)} gets id ${id} as Hugging Face gives ids, which ${other} has too`,
      );
    owner.set(id, `${path} ${JSON.stringify(token.content)}`);
    return { ...token, id };
  });
}

/** `model.vocab` as token → id; ids must be u32 integers, each used once (Hugging Face lets one id name two tokens). */
export function readVocab(value: unknown): Map<string, number> {
  const vocab = f.object(value, 'model.vocab');
  const owner = new Map<number, string>();
  const ids = new Map<string, number>();
  for (const [token, raw] of Object.entries(vocab)) {
    const path = `model.vocab[${JSON.stringify(token)}]`;
    const id = f.u32(raw, path);
    const other = owner.get(id);
    if (other !== undefined)
      throw f.error(path, `is id ${id}, which ${JSON.stringify(other)} has too`);
    owner.set(id, token);
    ids.set(token, id);
  }
  return ids;
}
