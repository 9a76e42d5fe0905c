// Arrays travel to Postgres as one text parameter in array-literal form (`{a,b}` cast with ::text[]),
// which both node-postgres and PGlite pass through untouched; this is what lets a 1000-row batch be
// one statement with a handful of parameters.
export function textArray(values: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i) out += ',';
    out += '"' + values[i].replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  }
  return out + '}';
}

export function nullableTextArray(values: readonly (string | null | undefined)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i) out += ',';
    const v = values[i];
    out += v == null ? 'NULL' : '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
  }
  return out + '}';
}

/** Numbers print as Postgres reads them, including NaN, Infinity and -Infinity for float8; int64
 * values beyond 2^53 arrive as their exact decimal strings. */
export function numberArray(values: readonly (number | string)[]): string {
  return '{' + values.join(',') + '}';
}
