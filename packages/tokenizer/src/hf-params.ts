/**
 * The fields of a Hugging Face `tokenizer.json` that say how to use the tokenizer rather than
 * what it is: `version`, `truncation`, `padding`. They are checked as Hugging Face reads them
 * (`tokenizer/serialization.rs`, `utils/truncation.rs`, `utils/padding.rs`), and not applied:
 * `encode` returns every id, unpadded.
 */
import { f } from './hf-shared.js';
import type { Json } from './json-fields.js';

const DIRECTIONS = ['Left', 'Right'] as const;

function checkTruncation(value: unknown): void {
  const t = f.object(value, 'truncation');
  f.withDefault(t.direction, 'Right', (v) => f.variant(v, 'truncation.direction', DIRECTIONS));
  f.usize(t.max_length, 'truncation.max_length');
  f.variant(t.strategy, 'truncation.strategy', ['LongestFirst', 'OnlyFirst', 'OnlySecond']);
  f.usize(t.stride, 'truncation.stride');
}

/** `strategy`: `"BatchLongest"` or `{"Fixed": length}`. */
function checkPaddingStrategy(value: unknown): void {
  const path = 'padding.strategy';
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'Fixed' in value) {
    if (Object.keys(value).length !== 1)
      throw f.error(
        path,
        'must be "BatchLongest" or {"Fixed": length}, got an object with other keys',
      );
    f.usize((value as Json).Fixed, `${path}.Fixed`);
  } else f.variant(value, path, ['BatchLongest']);
}

function checkPadding(value: unknown): void {
  const p = f.object(value, 'padding');
  checkPaddingStrategy(p.strategy);
  f.variant(p.direction, 'padding.direction', DIRECTIONS);
  f.optional(p.pad_to_multiple_of, (v) => f.usize(v, 'padding.pad_to_multiple_of'));
  f.u32(p.pad_id, 'padding.pad_id');
  f.u32(p.pad_type_id, 'padding.pad_type_id');
  f.string(p.pad_token, 'padding.pad_token');
}

/**
 * Checks `version` (missing or `"1.0"`), `truncation` and `padding` (null, or each field of the
 * type Hugging Face reads).
 *
 * @throws Error - naming the field, where Hugging Face refuses the file
 */
export function checkParams(json: Json): void {
  if (json.version !== undefined && f.string(json.version, 'version') !== '1.0')
    throw f.error('version', `must be "1.0", got ${JSON.stringify(json.version)}`);
  f.optional(json.truncation, checkTruncation);
  f.optional(json.padding, checkPadding);
}
