import { invalidParam } from '../errors.js';

/**
 * Artifact paths arrive percent-encoded in URLs, in query strings and inside JSON bodies. Every one
 * is turned into a store key here, and nowhere else: decoded once (as Flask does), then checked in
 * that form AND in its fully decoded form, so `%2e%2e`, `%252e%252e%252f` and friends are refused
 * just like `..` (CVE-2023-6909, CVE-2024-1560, CVE-2023-6730).
 *
 * A key is a relative POSIX path: segments joined by '/', none empty, '.', or '..'. The empty key
 * is the store's root and is only accepted where a caller asks for it (listing).
 */

/** Segments a key may not start with: the local store keeps its in-flight uploads there. */
export const RESERVED_ROOT_SEGMENT = '.cairn-tmp';
/** A name no key may hold in any segment: the local store's temporary file beside a new folder's first file. */
export const RESERVED_NAME_PREFIX = `${RESERVED_ROOT_SEGMENT}-`;

// S3 limits keys to 1024 bytes; file systems limit a name to 255 bytes.
const MAX_KEY_BYTES = 900;
const MAX_SEGMENT_BYTES = 255;
const MAX_DECODE_ROUNDS = 10;

const invalidPath = (why: string) => invalidParam(`Invalid path: ${why}`);

/** Replaces valid %XX escapes only, like Python's unquote; a stray '%' stays as it is. */
export function percentDecodeOnce(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  const out: string[] = [];
  const flush = () => {
    if (!bytes.length) return;
    const decoded = new TextDecoder('utf-8', { fatal: true });
    try {
      out.push(decoded.decode(Uint8Array.from(bytes)));
    } catch {
      throw invalidPath('percent-encoded bytes are not valid UTF-8');
    }
    bytes.length = 0;
  };
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      flush();
      out.push(text[i]);
    }
  }
  flush();
  return out.join('');
}

/** Decodes until the text stops changing; a value that keeps changing is an attack, not a name. */
export function percentDecodeFully(text: string): string {
  let current = text;
  for (let i = 0; i < MAX_DECODE_ROUNDS; i++) {
    const next = percentDecodeOnce(current);
    if (next === current) return current;
    current = next;
  }
  throw invalidPath('too many levels of percent-encoding');
}

function checkForm(path: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) throw invalidPath('control characters are not allowed');
  if (path.includes('\\')) throw invalidPath('backslashes are not allowed');
  if (path.includes('#')) throw invalidPath("'#' is not allowed");
  if (path.includes(';')) throw invalidPath("';' is not allowed");
  if (path.includes('?')) throw invalidPath("'?' is not allowed");
  if (path.startsWith('/') || path.startsWith('~')) throw invalidPath('absolute paths are not allowed');
  if (/^[a-zA-Z]:/.test(path)) throw invalidPath('drive letters are not allowed');
  for (const segment of path.split('/')) {
    if (segment === '..' || segment === '.') throw invalidPath(`'${segment}' segments are not allowed`);
    if (segment === '') throw invalidPath('empty segments are not allowed');
  }
}

export interface KeyOptions {
  /** Accept '' (the store root), as the list call does. */
  allowRoot?: boolean;
  /** The text is already decoded (a JSON string, a query value); otherwise it is decoded once. */
  decoded?: boolean;
}

/**
 * The store key for a client-supplied artifact path, or INVALID_PARAMETER_VALUE "Invalid path: …".
 * One trailing '/' is tolerated (the client lists "dir/").
 */
export function artifactKey(raw: string, opts: KeyOptions = {}): string {
  let key = opts.decoded ? raw : percentDecodeOnce(raw);
  if (key.endsWith('/') && key.length > 1) key = key.slice(0, -1);
  if (key === '') {
    if (opts.allowRoot) return '';
    throw invalidPath('a path is required');
  }
  checkForm(key);
  checkForm(percentDecodeFully(key));
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw invalidPath(`longer than ${MAX_KEY_BYTES} bytes`);
  const segments = key.split('/');
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) {
    throw invalidPath(`a path segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  if (segments[0] === RESERVED_ROOT_SEGMENT) throw invalidPath(`'${RESERVED_ROOT_SEGMENT}' is reserved`);
  if (segments.some((s) => s.startsWith(RESERVED_NAME_PREFIX))) throw invalidPath(`names starting '${RESERVED_NAME_PREFIX}' are reserved`);
  return key;
}

/** Joins validated keys; either may be the root ''. */
export function joinKey(a: string, b: string): string {
  if (!a) return b;
  if (!b) return a;
  return `${a}/${b}`;
}

/** The last segment of a key. */
export const baseName = (key: string) => key.slice(key.lastIndexOf('/') + 1);
