/**
 * The members of the object Postgres' json_object_agg writes (`{ "k" : "v", "k2" : "v2" }`), as
 * JSON.stringify writes them (`"k":"v","k2":"v2"`): its keys and values are escaped exactly as
 * JSON.stringify escapes strings, so only the spaces between them differ. Lets an answer embed a
 * row's key/value pairs without parsing them into an object and serialising it again.
 *
 * Undefined when that text would differ from JSON.stringify of the parsed object: a key starting
 * with a digit may be integer-like ("7"), which a JavaScript object puts first; `replacedKey` is
 * one the caller sets on the object itself.
 */
export function jsonObjectAggMembers(text: string, replacedKey: string): string | undefined {
  // `{ ` then strings separated by ` : ` and `, `, then ` }`.
  const end = text.length - 2;
  const replaced = JSON.stringify(replacedKey);
  let out = '';
  let from = 2;
  let open = 2;
  let isKey = true;
  while (open < end) {
    const close = closingQuote(text, open);
    if (isKey) {
      const first = text.charCodeAt(open + 1);
      if ((first >= 48 && first <= 57) || (close - open + 1 === replaced.length && text.startsWith(replaced, open))) return undefined;
    }
    if (close + 1 >= end) break;
    // ` : ` after a key, `, ` after a value.
    out += `${text.slice(from, close + 1)}${isKey ? ':' : ','}`;
    open = close + (isKey ? 4 : 3);
    from = open;
    isKey = !isKey;
  }
  return out + text.slice(from, end);
}

/** The index of the quote closing the string that opens at `open`. */
function closingQuote(text: string, open: number): number {
  let quote = text.indexOf('"', open + 1);
  // A quote after an odd run of backslashes is escaped (`\"`); after an even one (`\\"`) it closes.
  while (quote > 0 && isEscaped(text, quote)) quote = text.indexOf('"', quote + 1);
  if (quote < 0) throw new Error('unterminated string in json_object_agg text');
  return quote;
}

function isEscaped(text: string, at: number): boolean {
  let n = 0;
  while (text.charCodeAt(at - 1 - n) === 92) n++;
  return n % 2 === 1;
}
