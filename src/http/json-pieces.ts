import type { Context } from 'hono';

// Up to this many characters an answer is joined and sent with its Content-Length; a larger one
// (a search of 50,000 runs is ~45 MB) is streamed a piece at a time, so that neither the joined
// text nor its UTF-8 bytes exist whole beside the pieces.
const JOINED_MAX = 1 << 20;

/** Sends a JSON text given as pieces, in order. */
export function jsonPieces(c: Context, pieces: string[]): Response {
  const headers = { 'Content-Type': 'application/json' };
  let size = 0;
  for (const piece of pieces) size += piece.length;
  if (size <= JOINED_MAX) return c.body(pieces.join(''), 200, headers);
  const encoder = new TextEncoder();
  let next = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next === pieces.length) return controller.close();
      controller.enqueue(encoder.encode(pieces[next]));
      pieces[next++] = ''; // sent: its text can go
    },
  });
  return c.body(stream, 200, headers);
}
