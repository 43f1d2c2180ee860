/** Helpers shared by the n-gram metrics (BLEU, chrF, ROUGE). */

/** Counts of the n-grams of one order, each keyed by its items joined with `joiner`. */
export function countNgrams(
  items: readonly string[],
  order: number,
  joiner: string,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + order <= items.length; i++) {
    const key = items.slice(i, i + order).join(joiner);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** sacrebleu's layout: at least one reference stream, each as long as the hypotheses. */
export function checkReferenceStreams(
  caller: string,
  hypotheses: readonly unknown[],
  references: readonly (readonly unknown[])[],
): void {
  if (references.length === 0)
    throw new RangeError(`${caller}: expected at least one reference stream`);
  for (const [k, stream] of references.entries()) {
    if (stream.length !== hypotheses.length) {
      throw new RangeError(
        `${caller}: reference stream ${k} has ${stream.length} sentences for ${hypotheses.length} hypotheses`,
      );
    }
  }
}
