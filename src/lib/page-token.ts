import { invalidParam } from '../errors.js';

// Opaque to clients: base64 of {"offset": N}, as MLflow writes it, so tokens look familiar in logs.
export function encodeOffsetToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

export function decodeOffsetToken(token: string | undefined): number {
  if (!token) return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  } catch {
    throw invalidParam(`Invalid page token, could not base64-decode: ${token.slice(0, 100)}`);
  }
  const offset = (parsed as { offset?: unknown } | null)?.offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    // The token's own text, not a re-serialisation of what it decoded to: a value nested thousands
    // deep would overflow the stack in JSON.stringify.
    throw invalidParam(`Invalid page token, it does not hold a non-negative offset: ${token.slice(0, 100)}`);
  }
  return offset;
}
