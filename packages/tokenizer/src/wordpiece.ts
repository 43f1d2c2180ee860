import type { Json } from './json-fields.js';
import { checkOptions } from './options.js';

export interface WordPieceOptions {
  vocab: Map<string, number>;
  unkToken?: string;
  prefix?: string;
  maxInputCharsPerWord?: number;
  lowercase?: boolean;
  stripAccents?: boolean;
  cleanText?: boolean;
  handleChineseChars?: boolean;
  /** Tokens around a sequence with `addSpecialTokens` (BERT: [CLS] … [SEP]). */
  template?: { before: string[]; after: string[] };
}

function isPunctuation(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  if (
    (c >= 33 && c <= 47) ||
    (c >= 58 && c <= 64) ||
    (c >= 91 && c <= 96) ||
    (c >= 123 && c <= 126)
  )
    return true;
  return /\p{P}/u.test(ch);
}

function isChinese(c: number): boolean {
  return (
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    (c >= 0x20000 && c <= 0x2a6df) ||
    (c >= 0x2a700 && c <= 0x2b73f) ||
    (c >= 0x2b740 && c <= 0x2b81f) ||
    (c >= 0x2b820 && c <= 0x2ceaf) ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0x2f800 && c <= 0x2fa1f)
  );
}

/**
 * BERT's WordPiece (as Hugging Face's BertNormalizer + BertPreTokenizer + WordPiece model):
 * clean and lowercase the text, strip accents, isolate CJK characters and punctuation, split on
 * whitespace, then take the longest vocabulary match from the left, continuing with `##` pieces;
 * a word with no full segmentation becomes [UNK]. Used by the rag package's encoders.
 */
export class WordPieceTokenizer {
  readonly specialTokens: Readonly<Record<string, number>>;
  private readonly decoder: string[] = [];
  private readonly o: Required<Omit<WordPieceOptions, 'template'>> & {
    template?: WordPieceOptions['template'];
  };

  constructor(options: WordPieceOptions, specialTokens: Record<string, number> = {}) {
    checkOptions('WordPieceTokenizer', options, [
      'vocab',
      'unkToken',
      'prefix',
      'maxInputCharsPerWord',
      'lowercase',
      'stripAccents',
      'cleanText',
      'handleChineseChars',
      'template',
    ]);
    this.o = {
      unkToken: '[UNK]',
      prefix: '##',
      maxInputCharsPerWord: 100,
      lowercase: true,
      stripAccents: options.lowercase ?? true,
      cleanText: true,
      handleChineseChars: true,
      ...options,
    };
    for (const [t, id] of options.vocab) this.decoder[id] = t;
    if (!options.vocab.has(this.o.unkToken))
      throw new Error(
        `WordPiece: the vocabulary lacks the unknown token ${JSON.stringify(this.o.unkToken)}`,
      );
    this.specialTokens = specialTokens;
  }

  static fromHuggingFace(json: Json, specials: Record<string, number>): WordPieceTokenizer {
    const model = json.model as Json;
    const norm = (json.normalizer ?? {}) as Json;
    if (json.normalizer && norm.type !== 'BertNormalizer')
      throw new Error(
        `tokenizer.json: unsupported normalizer type ${JSON.stringify(norm.type)} for WordPiece`,
      );
    const pre = (json.pre_tokenizer ?? {}) as Json;
    if (json.pre_tokenizer && pre.type !== 'BertPreTokenizer')
      throw new Error(
        `tokenizer.json: unsupported pre_tokenizer type ${JSON.stringify(pre.type)} for WordPiece`,
      );
    const post = (json.post_processor ?? null) as Json | null;
    let template: { before: string[]; after: string[] } | undefined;
    if (post?.type === 'BertProcessing')
      template = { before: [(post.cls as [string])[0]], after: [(post.sep as [string])[0]] };
    else if (post?.type === 'TemplateProcessing') {
      template = { before: [], after: [] };
      let seen = false;
      for (const item of post.single as Json[]) {
        if ('Sequence' in item) seen = true;
        else (seen ? template.after : template.before).push(String((item.SpecialToken as Json).id));
      }
    } else if (post)
      throw new Error(
        `tokenizer.json: unsupported post_processor type ${JSON.stringify(post.type)} for WordPiece`,
      );
    const lowercase = norm.lowercase !== false;
    return new WordPieceTokenizer(
      {
        vocab: new Map(Object.entries(model.vocab as Record<string, number>)),
        unkToken: (model.unk_token as string) ?? '[UNK]',
        prefix: (model.continuing_subword_prefix as string) ?? '##',
        maxInputCharsPerWord: (model.max_input_chars_per_word as number) ?? 100,
        lowercase,
        stripAccents: (norm.strip_accents as boolean | null) ?? lowercase,
        cleanText: norm.clean_text !== false,
        handleChineseChars: norm.handle_chinese_chars !== false,
        template,
      },
      specials,
    );
  }

  get vocabSize(): number {
    return this.decoder.length;
  }

  specialId(text: string): number {
    const id = this.specialTokens[text] ?? this.o.vocab.get(text);
    if (id === undefined) throw new Error(`WordPiece: no special token ${JSON.stringify(text)}`);
    return id;
  }

  private normalize(text: string): string {
    let t = text;
    if (this.o.cleanText) {
      // Whitespace (tab and newline too) becomes a space; other control chars, NUL and U+FFFD go.
      let clean = '';
      for (const ch of t) {
        if (/\s/u.test(ch)) clean += ' ';
        else if (ch !== '\0' && ch !== '\ufffd' && !/\p{Cc}/u.test(ch)) clean += ch;
      }
      t = clean;
    }
    if (this.o.handleChineseChars)
      t = [...t].map((ch) => (isChinese(ch.codePointAt(0)!) ? ` ${ch} ` : ch)).join('');
    if (this.o.stripAccents) t = t.normalize('NFD').replace(/\p{Mn}/gu, '');
    if (this.o.lowercase) t = t.toLowerCase();
    return t;
  }

  /** Words after normalization and BERT pre-tokenization (whitespace and punctuation splits). */
  preTokenize(text: string): string[] {
    const words: string[] = [];
    for (const chunk of this.normalize(text).split(/\s+/u)) {
      let word = '';
      for (const ch of chunk) {
        if (isPunctuation(ch)) {
          if (word) words.push(word);
          words.push(ch);
          word = '';
        } else word += ch;
      }
      if (word) words.push(word);
    }
    return words;
  }

  private wordIds(word: string): number[] {
    const chars = [...word];
    const unk = this.o.vocab.get(this.o.unkToken)!;
    if (chars.length > this.o.maxInputCharsPerWord) return [unk];
    const ids: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (start < end) {
        const piece = (start > 0 ? this.o.prefix : '') + chars.slice(start, end).join('');
        found = this.o.vocab.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) return [unk];
      ids.push(found);
      start = end;
    }
    return ids;
  }

  encode(text: string, options: { addSpecialTokens?: boolean } = {}): number[] {
    checkOptions('WordPieceTokenizer.encode', options, ['addSpecialTokens']);
    const ids = this.preTokenize(text).flatMap((w) => this.wordIds(w));
    const t = options.addSpecialTokens ? this.o.template : undefined;
    return t
      ? [
          ...t.before.map((s) => this.specialId(s)),
          ...ids,
          ...t.after.map((s) => this.specialId(s)),
        ]
      : ids;
  }

  /** Tokens joined with spaces, `##` continuations glued back (Hugging Face's WordPiece decoder). */
  decode(ids: Iterable<number>, options: { skipSpecialTokens?: boolean } = {}): string {
    checkOptions('WordPieceTokenizer.decode', options, ['skipSpecialTokens']);
    const specials = new Set(Object.values(this.specialTokens));
    const tokens: string[] = [];
    for (const id of ids) {
      const t = this.decoder[id];
      if (t === undefined)
        throw new RangeError(
          `WordPiece: unknown token id ${id} (vocabulary size ${this.vocabSize})`,
        );
      if (options.skipSpecialTokens && specials.has(id)) continue;
      tokens.push(t);
    }
    return tokens.join(' ').replaceAll(` ${this.o.prefix}`, '');
  }
}
