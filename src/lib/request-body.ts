import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { invalidParam } from '../errors.js';

/** The body was larger than allowed; the rest of it is left unread. */
export class BodyTooLarge extends Error {}

const utf8 = new TextDecoder();

/**
 * The request body as text, refused past `maxBytes`. Under @hono/node-server it is read straight
 * from the socket's IncomingMessage: going through `c.req.text()` builds a web Request, its
 * ReadableStream and AbortSignal for every call, which was a tenth of a small log call's CPU.
 * Elsewhere (app.request in tests) the web Request is all there is.
 */
export async function readBodyText(c: Context, maxBytes: number): Promise<string> {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (!(incoming instanceof Readable) || incoming.readableDidRead) return readWebBody(c, maxBytes);
  const declared = Number((incoming as Readable & { headers: Record<string, string | undefined> }).headers['content-length']);
  if (declared > maxBytes) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early must not destroy the request: that would reset the socket before the 400.
  for await (const chunk of incoming.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return utf8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
}

async function readWebBody(c: Context, maxBytes: number): Promise<string> {
  const body = c.req.raw.body;
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return utf8.decode(Buffer.concat(chunks, size));
}

/**
 * The answer to a body over the cap. Its rest is never read, so the connection cannot carry another
 * request: close it, or the client's next call on it would fail.
 */
export function bodyTooLargeResponse(c: Context, maxBytes: number): Response {
  return c.json(invalidParam(`Request body exceeds the limit of ${maxBytes} bytes.`).toJSON(), 400, { Connection: 'close' });
}

/** A JSON route's body as text, or the 400 to answer when it is over the cap. */
export async function readBodyOrRefuse(c: Context, maxBytes: number): Promise<string | Response> {
  try {
    return await readBodyText(c, maxBytes);
  } catch (err) {
    if (err instanceof BodyTooLarge) return bodyTooLargeResponse(c, maxBytes);
    throw err;
  }
}
