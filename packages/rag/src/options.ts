/**
 * Throws a `TypeError` when `options` is not a plain object or holds a key outside `known`: a
 * misspelt option (`chunkOverlp`, `efsearch`) must fail loudly, never fall back to a default.
 * `undefined` passes (no options given). The message names the call, the key and the known keys.
 * An exact copy of `@tessera/tensor-webgpu`'s `checkOptions`, kept here because `@tessera/rag`
 * installs without the tensor core; `options.test.ts` fails if the two messages ever differ.
 *
 * @param where - the function the options belong to, e.g. `'chunkText'`
 * @param options - the caller's options object
 * @param known - every key the call reads
 * @throws TypeError - not an object, or an unknown key
 */
export function checkOptions(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key))
      throw new TypeError(
        `${where}: unknown option ${JSON.stringify(key)} (known options: ${known.join(', ')})`,
      );
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `${typeof value} ${String(value)}`;
}
