import { isUtf8 } from 'node:buffer';
import { invalidParam } from '../errors.js';

// Text a client sends must reach the database unchanged, or be refused in words the user can act on.
// Decoding invalid UTF-8 leniently would store U+FFFD in place of the bytes sent; Postgres text
// cannot hold U+0000 at all (and says so in its own terms); an unpaired UTF-16 surrogate (a JSON
// escape such as "\ud800") has no UTF-8 form, so the driver would quietly write U+FFFD instead.

const utf8 = new TextDecoder();

/** A request body's bytes as text, or a 400 when they are not UTF-8. */
export function decodeUtf8Body(bytes: Uint8Array): string {
  if (!isUtf8(bytes)) {
    throw invalidParam('The request body is not valid UTF-8 text. Send JSON encoded as UTF-8 (Content-Type: application/json).');
  }
  return utf8.decode(bytes);
}

const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether Postgres can store the text as it is (no NUL character, no unpaired surrogate). */
export const isStorableText = (text: string): boolean => !UNSTORABLE.test(text);

/** Throws a 400 naming `where` when `text` holds a NUL character or an unpaired surrogate. */
export function checkStorableText(text: string, where: string): void {
  const found = UNSTORABLE.exec(text);
  if (!found) return;
  const what =
    found[0] === '\u0000'
      ? 'a NUL character (\\u0000), which cannot be stored'
      : `an unpaired UTF-16 surrogate (\\u${found[0].charCodeAt(0).toString(16)}), which is not valid Unicode text`;
  throw invalidParam(`Invalid value for ${where}: it contains ${what}.`);
}

/** Walks a parsed JSON value and checks every string and key with checkStorableText. */
export function checkStorableJson(value: unknown, where: string, depth = 0): void {
  if (typeof value === 'string') return checkStorableText(value, `parameter '${where}'`);
  if (typeof value !== 'object' || value === null || depth > 64) return;
  if (Array.isArray(value)) {
    for (const v of value) checkStorableJson(v, where, depth + 1);
    return;
  }
  for (const k in value) {
    const path = where ? `${where}.${k}` : k;
    checkStorableText(k, `the key '${path}'`);
    checkStorableJson((value as Record<string, unknown>)[k], path, depth + 1);
  }
}
