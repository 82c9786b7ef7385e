/**
 * Product search terms. Whitespace (including the ideographic space U+3000 that Japanese input methods type)
 * separates terms, and every term must match. Terms are NFKC-normalised like the indexed columns (migrations/001_baseline.sql:
 * read_products.search / search_text), so ＴＳＨＩＲＴ, ｼｬﾂ and 100％ find what their normalised forms find.
 * At most 8 terms of at most 100 characters: a query is a few words, not a document.
 */
export function searchTerms(q: string | undefined): string[] {
  if (q === undefined) return [];
  return q
    .normalize('NFKC')
    .split(/\s+/u)
    .filter((t) => t.length > 0)
    .slice(0, 8)
    .map((t) => [...t].slice(0, 100).join(''));
}

/** A LIKE pattern matching the term anywhere: the term's own %, _ and \ are matched literally. */
export const containsPattern = (term: string): string => `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
