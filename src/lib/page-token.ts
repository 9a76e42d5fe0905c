import { createHash } from 'node:crypto';
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
  const { offset, after } = decodeKeyedToken(token);
  return after ? { offset, after: { startTime: after[0], runId: after[1] } } : { offset };
}

/**
 * Where a page of traces in the default order (request_time DESC, trace_id) starts: after the
 * previous page's last trace, its request_time (exact int64 text) and trace_id.
 */
export interface TracePageKey {
  requestTime: string;
  traceId: string;
}

/**
 * A short digest of what a trace search matched on (its experiments and filter). A trace page
 * token carries it, so a token sent with another filter or other experiments is an offset, as every
 * token was before keyset tokens, rather than "the traces after that one" of another search.
 */
export function traceSearchScope(experimentIds: readonly number[], filter: string | undefined): string {
  const text = JSON.stringify([[...experimentIds].sort((a, b) => a - b), filter ?? '']);
  return createHash('sha256').update(text).digest('base64url').slice(0, 12);
}

/** An offset token that also names the last trace of its page and the search's scope (traceSearchScope). */
export function encodeTracePageToken(offset: number, after?: TracePageKey & { scope: string }): string {
  return Buffer.from(JSON.stringify(after ? { offset, after: [after.requestTime, after.traceId], scope: after.scope } : { offset })).toString('base64');
}

/**
 * A trace page token's offset, and its TracePageKey when it has one and it was issued for the same
 * scope (traceSearchScope): offset tokens from before keep their meaning.
 */
export function decodeTracePageToken(token: string | undefined, scope: string): { offset: number; after?: TracePageKey } {
  const { offset, after, parsed } = decodeKeyedToken(token);
  // A key without a time (a run token's shape) or from another search: the offset alone.
  if (!after || after[0] === null || (parsed as { scope?: unknown }).scope !== scope) return { offset };
  return { offset, after: { requestTime: after[0], traceId: after[1] } };
}

/** A token's offset and its key [int64 text or null, id] when it has one; a malformed token is an invalid parameter. */
function decodeKeyedToken(token: string | undefined): { offset: number; after?: [string | null, string]; parsed?: object } {
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
  if (after === undefined) return { offset, parsed: parsed as object };
  const [time, id] = Array.isArray(after) && after.length === 2 ? (after as unknown[]) : [];
  const validTime = time === null || (typeof time === 'string' && isInt64Text(time));
  if (!validTime || typeof id !== 'string' || !id) throw invalidParam(`Invalid page token, it does not name a row to continue after: ${token.slice(0, 100)}`);
  return { offset, after: [time as string | null, id], parsed: parsed as object };
}
