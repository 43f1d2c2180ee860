/**
 * The parts of a Hugging Face `tokenizer.json` that every model reads alike: added tokens and
 * the ids Hugging Face gives them, the vocabulary, and the post-processor's template.
 */
import type { AddedToken } from './added-tokens.js';
import { JsonFields } from './json-fields.js';

/** Typed reads of the file's fields, each error naming the field's path. */
export const f = new JsonFields('tokenizer.json');

/** The error for a component this package does not implement. */
export function unsupported(where: string, type: unknown): Error {
  return new Error(`tokenizer.json: unsupported ${where} type ${JSON.stringify(type)}`);
}

/** The id a template's special token has in the loaded tokenizer, if it is one. */
export type TemplateIds = (name: string) => number | undefined;

/** Checks that a post-processor gives `name` the one id the tokenizer has for it. */
function checkTemplateId(name: string, ids: unknown, idOf: TemplateIds, path: string): void {
  const id = idOf(name);
  const given = f.array(ids, path).map((v, i) => f.id(v, `${path}[${i}]`));
  if (id === undefined)
    throw f.error(path, `names ${JSON.stringify(name)}, which is not a special token here`);
  if (given.length !== 1 || given[0] !== id)
    throw f.error(
      path,
      `is ${JSON.stringify(given)} for ${JSON.stringify(name)}, whose id here is ${id}: a template token must be that one id`,
    );
}

/**
 * Special tokens a TemplateProcessing (or BertProcessing) puts around a single sequence. Hugging
 * Face takes their ids from the post-processor itself; each must be the one id the tokenizer
 * gives that token, or the file is refused.
 */
export function readTemplate(
  post: unknown,
  idOf: TemplateIds,
  path = 'post_processor',
): { before: string[]; after: string[] } | undefined {
  if (post === null || post === undefined) return undefined;
  const p = f.object(post, path);
  const type = f.type(p, path);
  if (type === 'ByteLevel') return undefined; // offset trimming only
  if (type === 'Sequence') {
    let found: { before: string[]; after: string[] } | undefined;
    for (const [i, step] of f.array(p.processors, `${path}.processors`).entries())
      found = readTemplate(step, idOf, `${path}.processors[${i}]`) ?? found;
    return found;
  }
  if (type === 'BertProcessing') {
    const [cls, sep] = (['cls', 'sep'] as const).map((key) => {
      const pair = f.array(p[key], `${path}.${key}`);
      const name = f.string(pair[0], `${path}.${key}[0]`);
      checkTemplateId(name, pair.slice(1), idOf, `${path}.${key}`);
      return name;
    }) as [string, string];
    return { before: [cls], after: [sep] };
  }
  if (type === 'TemplateProcessing') {
    const before: string[] = [];
    const after: string[] = [];
    let seen = false;
    for (const [i, piece] of f.array(p.single, `${path}.single`).entries()) {
      const item = f.object(piece, `${path}.single[${i}]`);
      if ('Sequence' in item) seen = true;
      else {
        const special = f.object(item.SpecialToken, `${path}.single[${i}].SpecialToken`);
        (seen ? after : before).push(f.string(special.id, `${path}.single[${i}].SpecialToken.id`));
      }
    }
    const specials = f.object(p.special_tokens, `${path}.special_tokens`);
    for (const name of [...before, ...after]) {
      const at = `${path}.special_tokens[${JSON.stringify(name)}]`;
      if (!(name in specials))
        throw f.error(at, 'is missing: the template names it (Hugging Face fails on such a file)');
      checkTemplateId(name, f.object(specials[name], at).ids, idOf, `${at}.ids`);
    }
    return { before, after };
  }
  throw unsupported('post_processor', type);
}

/** One `added_tokens` entry, with where it is in the file. */
export type AddedTokenEntry = AddedToken & { path: string };

/**
 * `added_tokens`: every flag is required, as Hugging Face requires it. An entry that repeats an
 * earlier one exactly is left out, as Hugging Face leaves it out; one that repeats an earlier
 * content with other flags is refused (Hugging Face would keep the first id with the last flags).
 */
export function readAddedTokens(list: unknown): AddedTokenEntry[] {
  if (list === undefined || list === null) return [];
  const byContent = new Map<string, AddedTokenEntry>();
  const tokens: AddedTokenEntry[] = [];
  for (const [i, value] of f.array(list, 'added_tokens').entries()) {
    const path = `added_tokens[${i}]`;
    const t = f.object(value, path);
    const token: AddedTokenEntry = {
      id: f.id(t.id, `${path}.id`),
      content: f.string(t.content, `${path}.content`),
      special: f.boolean(t.special, `${path}.special`),
      singleWord: f.boolean(t.single_word, `${path}.single_word`),
      lstrip: f.boolean(t.lstrip, `${path}.lstrip`),
      rstrip: f.boolean(t.rstrip, `${path}.rstrip`),
      normalized: f.boolean(t.normalized, `${path}.normalized`),
      path,
    };
    if (token.content === '') throw f.error(`${path}.content`, 'must not be empty');
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

/** `model.vocab` as token → id; ids must be non-negative integers, each used once. */
export function readVocab(value: unknown): Map<string, number> {
  const vocab = f.object(value, 'model.vocab');
  const owner = new Map<number, string>();
  const ids = new Map<string, number>();
  for (const [token, raw] of Object.entries(vocab)) {
    const path = `model.vocab[${JSON.stringify(token)}]`;
    const id = f.id(raw, path);
    const other = owner.get(id);
    if (other !== undefined)
      throw f.error(path, `is id ${id}, which ${JSON.stringify(other)} has too`);
    owner.set(id, token);
    ids.set(token, id);
  }
  return ids;
}
