/** A document to index or chunk: its id and text. */
export interface TextDocument {
  readonly id: string;
  readonly text: string;
}

/**
 * Checks documents before any is used: ids are non-empty strings, given once and not already
 * held (`has`), texts are not blank.
 *
 * @throws TypeError or RangeError - naming the document's index, its id and what was expected
 */
export function checkDocuments(
  where: string,
  docs: readonly TextDocument[],
  has: (id: string) => boolean = () => false,
): void {
  if (!Array.isArray(docs))
    throw new TypeError(`${where}: documents must be an array of { id, text }`);
  const seen = new Set<string>();
  docs.forEach((doc, i) => {
    if (typeof doc?.id !== 'string' || doc.id === '')
      throw new TypeError(
        `${where}: documents[${i}].id must be a non-empty string, got ${JSON.stringify(doc?.id)}`,
      );
    if (seen.has(doc.id))
      throw new RangeError(`${where}: duplicate id ${JSON.stringify(doc.id)} in documents[${i}]`);
    if (has(doc.id))
      throw new RangeError(
        `${where}: id ${JSON.stringify(doc.id)} (documents[${i}]) is already indexed; delete it first to replace it`,
      );
    seen.add(doc.id);
    if (typeof doc.text !== 'string' || doc.text.trim() === '')
      throw new RangeError(
        `${where}: documents[${i}] (id ${JSON.stringify(doc.id)}) has an empty text; index only documents with content`,
      );
  });
}
