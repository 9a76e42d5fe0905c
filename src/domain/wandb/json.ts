import { invalidParam } from '../../errors.js';
import { replaceNonFiniteTokens } from '../../lib/non-finite-tokens.js';
import { checkStorableText } from '../../lib/storable-text.js';

// wandb-core writes history, summary, events and config with simplejsonext, which emits the bare
// tokens NaN, Infinity and -Infinity. These helpers read and write that dialect: non-finite numbers
// round-trip as numbers. Outside JSON strings the bare tokens are swapped for sentinel strings
// (a NUL can only appear escaped inside a real JSON string, so no user value collides in practice),
// parsed with JSON.parse, and revived.

const SENTINEL = '\u0000cairn:';
const REVIVE: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
const MAX_DEPTH = 64;

/** Parses one line of the dialect; throws INVALID_PARAMETER_VALUE on anything else. */
export function parseWandbJson(text: string, what = 'value'): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    try {
      const marked = replaceNonFiniteTokens(text, (token) => JSON.stringify(SENTINEL + token));
      value = JSON.parse(marked, (_k, v) => (typeof v === 'string' && v.startsWith(SENTINEL) ? REVIVE[v.slice(SENTINEL.length)] : v));
    } catch (err) {
      throw invalidParam(`Malformed JSON in ${what}: ${(err as Error).message}`);
    }
  }
  checkDepth(value, 0, what);
  return value;
}

/** Like parseWandbJson, but the value must be a JSON object. */
export function parseWandbObject(text: string, what = 'value'): Record<string, unknown> {
  const value = parseWandbJson(text, what);
  if (!isPlainObject(value)) throw invalidParam(`${what} must be a JSON object`);
  return value;
}

/** JSON with bare NaN / Infinity / -Infinity, as the wandb client writes and reads it. */
export function stringifyWandbJson(value: unknown): string {
  let nonFinite = false;
  const text = JSON.stringify(value, (_k, v) => {
    if (typeof v === 'number' && !Number.isFinite(v)) {
      nonFinite = true;
      return SENTINEL + String(v);
    }
    return v;
  });
  if (!nonFinite) return text;
  return text.replace(/"\\u0000cairn:(NaN|Infinity|-Infinity)"/g, '$1');
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// A hostile line nested thousands deep would overflow the stack in the recursive walks that follow.
// Strings and keys are checked on the way: a NUL or a lone surrogate could not be stored as sent.
function checkDepth(value: unknown, depth: number, what: string): void {
  if (depth > MAX_DEPTH) throw invalidParam(`${what} is nested more than ${MAX_DEPTH} levels deep`);
  if (typeof value === 'string') checkStorableText(value, what);
  else if (Array.isArray(value)) for (const v of value) checkDepth(v, depth + 1, what);
  else if (isPlainObject(value)) {
    for (const k in value) {
      checkStorableText(k, `the key '${k}' in ${what}`);
      checkDepth(value[k], depth + 1, what);
    }
  }
}
