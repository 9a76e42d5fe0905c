import type { BlobObject, BlobStore, ByteRange } from './store.js';

/**
 * One `Range: bytes=a-b | a- | -n` over an object of `size` bytes, or null to send it whole (no
 * header, or a form this server does not serve, such as several ranges: RFC 9110 lets a server
 * ignore those). So is a range that starts past the end: the whole object, never an error body
 * in place of bytes.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  return start >= size || end < start ? null : { start, end };
}

/** An object, or the part of it a Range header asks for (with what a 206 must say about it). */
export async function openRanged(store: BlobStore, key: string, header: string | undefined): Promise<BlobObject & { range?: ByteRange & { total: number } }> {
  if (!header) return store.get(key);
  const { size } = await store.head(key);
  const range = parseRange(header, size);
  if (!range) return store.get(key);
  return { ...(await store.get(key, range)), range: { ...range, total: size } };
}
