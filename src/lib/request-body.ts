import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { invalidParam } from '../errors.js';
import { decodeUtf8Body } from './storable-text.js';

/** The body was larger than allowed; the rest of it is left unread. */
class BodyTooLarge extends Error {}

/**
 * The request body's bytes, refused past `maxBytes` (BodyTooLarge). Under @hono/node-server it is read straight
 * from the socket's IncomingMessage: going through `c.req.text()` builds a web Request, its
 * ReadableStream and AbortSignal for every call, which was a tenth of a small log call's CPU.
 * Elsewhere (app.request in tests) the web Request is all there is.
 */
async function readBodyBytes(c: Context, maxBytes: number): Promise<Uint8Array> {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  let chunks: AsyncIterable<Uint8Array>;
  if (incoming instanceof Readable && !incoming.readableDidRead) {
    const declared = Number((incoming as Readable & { headers: Record<string, string | undefined> }).headers['content-length']);
    if (declared > maxBytes) throw new BodyTooLarge();
    // Leaving the loop early must not destroy the request: that would reset the socket before the 400.
    chunks = incoming.iterator({ destroyOnReturn: false });
  } else {
    const body = c.req.raw.body;
    if (!body) return new Uint8Array(0);
    chunks = body as unknown as AsyncIterable<Uint8Array>;
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLarge();
    parts.push(chunk);
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
}

/** The body as text, refused past `maxBytes` or when it is not UTF-8. */
async function readBodyText(c: Context, maxBytes: number): Promise<string> {
  return decodeUtf8Body(await readBodyBytes(c, maxBytes));
}

/**
 * The raw body, or undefined when it is over `maxBytes` (the rest is left unread: answer with
 * `Connection: close`, as readBodyOrRefuse does).
 */
export async function readBodyCapped(c: Context, maxBytes: number): Promise<Uint8Array | undefined> {
  try {
    return await readBodyBytes(c, maxBytes);
  } catch (err) {
    if (err instanceof BodyTooLarge) return undefined;
    throw err;
  }
}

/**
 * A JSON route's body as text, or the 400 to answer when it is over the cap. The rest of such a body
 * is never read, so the connection cannot carry another request: it is closed, or the client's next
 * call on it would fail.
 */
export async function readBodyOrRefuse(c: Context, maxBytes: number): Promise<string | Response> {
  try {
    return await readBodyText(c, maxBytes);
  } catch (err) {
    if (!(err instanceof BodyTooLarge)) throw err;
    return c.json(invalidParam(`Request body exceeds the limit of ${maxBytes} bytes.`).toJSON(), 400, { Connection: 'close' });
  }
}

/** The whole body as UTF-8 text (a 400 when it is not), for routes whose size cap is a bodyLimit middleware. */
export async function requestText(c: Context): Promise<string> {
  return decodeUtf8Body(new Uint8Array(await c.req.arrayBuffer()));
}
