import { invalidParam } from '../errors.js';
import { isInt64Text } from './int64.js';

// Opaque to clients: base64 of {"offset": N}, as MLflow writes it, so tokens look familiar in logs.
export function encodeOffsetToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

export function decodeOffsetToken(token: string | undefined): number {
  return decodeRunPageToken(token).offset;
}

/**
 * Where a page of runs in the default order (start_time DESC NULLS LAST, run_id) starts: after the
 * previous page's last run, its start_time (exact int64 text; null when it had none) and run_id.
 */
export interface RunPageKey {
  startTime: string | null;
  runId: string;
}

/** An offset token that also names the last run of its page (see RunPageKey), base64 of {"offset": N, "after": [start_time, run_id]}. */
export function encodeRunPageToken(offset: number, after?: RunPageKey): string {
  return Buffer.from(JSON.stringify(after ? { offset, after: [after.startTime, after.runId] } : { offset })).toString('base64');
}

/** A page token's offset, and its RunPageKey when it has one (tokens without one, from before, are offsets only). */
export function decodeRunPageToken(token: string | undefined): { offset: number; after?: RunPageKey } {
  if (!token) return { offset: 0 };
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
  const after = (parsed as { after?: unknown }).after;
  if (after === undefined) return { offset };
  const [startTime, runId] = Array.isArray(after) && after.length === 2 ? (after as unknown[]) : [];
  const validTime = startTime === null || (typeof startTime === 'string' && isInt64Text(startTime));
  if (!validTime || typeof runId !== 'string' || !runId) throw invalidParam(`Invalid page token, it does not name a run to continue after: ${token.slice(0, 100)}`);
  return { offset, after: { startTime: startTime as string | null, runId } };
}
