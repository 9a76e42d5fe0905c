// What the traces list's search box sends. It takes both MLflow's search_traces grammar and plain
// words: MLflow's own UI sends its search box as `trace.text ILIKE '%words%'` (a match anywhere in
// any span's JSON: inputs, outputs, attributes), and people type words there more often than
// filters. A filter starts with a key and an operator (`tags.env = 'prod'`, `name LIKE 'a%'`,
// `trace.status IN (...)`); anything else is text. A typo in a filter (`nonsense ~~ 3`) still
// looks like one, so the server's message about it shows instead of an empty search.

// A key (dotted, or quoted with backticks or double quotes), then a comparison, or a LIKE before
// its quoted pattern, or IN before its list: "items like this" or "what is in it" stay text.
const EXPRESSION =
  /^\s*\(?\s*(?:[A-Za-z_][\w.]*|`[^`]*`|"[^"]*")(?:\.(?:[\w]+|`[^`]*`|"[^"]*"))*\s*(?:!=|[=<>~]|(?:NOT\s+)?(?:I?LIKE|RLIKE)\s*['"]|(?:NOT\s+)?IN\s*\()/i;

/** Whether the box holds a filter expression rather than words to look for. */
export const isExpression = (input: string) => EXPRESSION.test(input);

/** A value in single quotes, a quote inside doubled, as the grammar reads it. */
export const quoted = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** The search_traces filter for what was typed: as typed when it is one, else a span text search. */
export function filterOf(input: string): string {
  const typed = input.trim();
  if (!typed || isExpression(typed)) return typed;
  return `trace.text ILIKE ${quoted(`%${typed}%`)}`;
}

/** What the box holds after a clause is added to it (a search by words becomes its filter first). */
export function narrowed(input: string, clause: string): string {
  const filter = filterOf(input);
  if (filter.includes(clause)) return filter;
  return [filter, clause].filter(Boolean).join(' AND ');
}
