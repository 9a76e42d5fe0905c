// MLflow quotes a refused value back as Python's json.dumps prints what the client sent: `9.0` stays
// `9.0` (a float), where JSON.parse leaves a JS number that prints `9`. Error messages are a rare
// path, so instead of a number-preserving parser on every request, the literal is looked up in the
// body's text only when a message needs it.

const WS = new Set([' ', '\t', '\n', '\r']);

/**
 * The source text of the value at `path` (object keys and array indexes) in the JSON document
 * `text`, or undefined when the path is not there. A repeated key resolves to its last occurrence,
 * as JSON.parse does. Assumes `text` is valid JSON (it has been parsed already).
 */
export function literalAt(text: string, path: readonly PropertyKey[]): string | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && WS.has(text[i])) i++;
  };
  const skipString = () => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const skipValue = () => {
    ws();
    if (text[i] === '"') return skipString();
    if (text[i] !== '{' && text[i] !== '[') {
      while (i < text.length && !WS.has(text[i]) && !',]}'.includes(text[i])) i++;
      return;
    }
    let depth = 0;
    do {
      if (text[i] === '"') {
        skipString();
        continue;
      }
      if (text[i] === '{' || text[i] === '[') depth++;
      else if (text[i] === '}' || text[i] === ']') depth--;
      i++;
    } while (depth > 0 && i < text.length);
  };
  for (const key of path) {
    ws();
    if (typeof key === 'number') {
      if (text[i] !== '[') return undefined;
      i++;
      for (let n = 0; n < key; n++) {
        skipValue();
        ws();
        if (text[i] !== ',') return undefined;
        i++;
      }
      continue;
    }
    if (text[i] !== '{') return undefined;
    i++;
    let found = -1;
    for (;;) {
      ws();
      if (text[i] !== '"') break; // `}`: the object ended
      const start = i;
      skipString();
      const name = JSON.parse(text.slice(start, i)) as string;
      ws();
      i++; // ':'
      ws();
      if (name === key) found = i;
      skipValue();
      ws();
      if (text[i] !== ',') break;
      i++;
    }
    if (found < 0) return undefined;
    i = found;
  }
  ws();
  const start = i;
  skipValue();
  return text.slice(start, i);
}

const FLOAT_LITERAL = /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/;

/** Python's repr of a float, which json.dumps prints: `9.0`, `1e+16`, `1e-05`, `0.0001`. */
export function pyFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  // toExponential() gives the shortest digits that round-trip, as Python's repr does.
  const [mantissa, e] = v.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const fixed = String(v); // within [1e-4, 1e16) JS prints fixed notation too
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

/**
 * How Python sees a JSON number literal: a float when it has a fraction or an exponent (printed as
 * its repr), else an int (printed exactly, however long). Undefined when `literal` is not a number.
 */
export function pythonNumber(literal: string | undefined): { text: string; type: 'int' | 'float' } | undefined {
  if (literal === undefined || !FLOAT_LITERAL.test(literal)) return undefined;
  if (/[.eE]/.test(literal)) return { text: pyFloatRepr(Number(literal)), type: 'float' };
  return { text: BigInt(literal).toString(), type: 'int' };
}
