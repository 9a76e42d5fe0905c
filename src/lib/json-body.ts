import { invalidParam } from '../errors.js';
import { quoteLongIntegers } from './int64.js';
import { checkStorableText } from './storable-text.js';
import { replaceNonFiniteTokens } from './non-finite-tokens.js';

// The mlflow client sends NaN as the string "NaN", but hand-written clients (and Python's json.dumps)
// send the bare tokens NaN / Infinity / -Infinity. Strict JSON.parse first; rewrite those tokens only
// when it fails, so the common path costs nothing extra.
export function parseJsonLenient(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    try {
      return JSON.parse(replaceNonFiniteTokens(text, (token) => `"${token}"`));
    } catch (err) {
      throw invalidParam(`Malformed JSON in request body: ${(err as Error).message}`);
    }
  }
}

// The JSON text each decoded body came from, for error messages that quote a value as the client
// wrote it (src/lib/json-literal.ts).
const sources = new WeakMap<object, string>();

/** The JSON text `decoded` was parsed from, when it came from decodeRequestObject. */
export const requestSource = (decoded: object): string | undefined => sources.get(decoded);

/** A request body as MLflow reads it: empty means `{}`, a JSON string holding JSON is decoded again,
 * `null` fields are absent. Anything but an object is refused. */
export function decodeRequestObject(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let source = text;
  let value = parseJsonLenient(quoteLongIntegers(text));
  if (typeof value === 'string') {
    source = value;
    value = parseJsonLenient(value);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidParam('The request body must be a JSON object.');
  }
  const decoded = dropNulls(value, 0, '') as Record<string, unknown>;
  sources.set(decoded, source);
  return decoded;
}

// No MLflow request nests deeper than a handful of levels; a cap keeps hostile bodies from
// exhausting the stack (a 500 the client would retry). Keys are copied onto prototype-less objects,
// so a `__proto__` key stays an ignored unknown field instead of supplying missing ones.
const MAX_DEPTH = 32;

// Plain loops (no Object.entries / map closures): a 1000-metric log-batch walks 8,000 values here.
// Every string and key is checked on the way: a NUL or a lone surrogate is a 400 naming the field.
function dropNulls(value: unknown, depth: number, name: string): unknown {
  if (depth > MAX_DEPTH) throw invalidParam(`The request body is nested more than ${MAX_DEPTH} levels deep.`);
  if (typeof value === 'string') {
    checkStorableText(value, `parameter '${name}'`);
    return value;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = dropNulls(value[i], depth + 1, name);
    return out;
  }
  const out: Record<string, unknown> = Object.create(null);
  // for-in sees own keys only here: JSON.parse builds plain objects, and Object.prototype has no enumerable keys.
  for (const k in value) {
    const v = (value as Record<string, unknown>)[k];
    checkStorableText(k, `the field name '${k}'`);
    if (v !== null && k !== '__proto__') out[k] = dropNulls(v, depth + 1, k);
  }
  return out;
}

/** A double as MLflow's JSON writes it: non-finite values become the strings the client parses. */
export const wireDouble = (v: number): number | string => (Number.isFinite(v) ? v : String(v));
