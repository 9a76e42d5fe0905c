import { Readable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, MlflowError } from '../../errors.js';
import { proxyStore, uploadArtifact } from '../artifacts.js';
import { byStart } from './otlp-batch.js';
import { MAX_SPANS_BYTES, parseTraceData, storedSpans, traceDataKey, type SpanRecord } from './spans.js';
import { spanRowsUpsert } from './span-rows.js';
import { lockTraceWrites } from './spans-in-flight.js';

// The mlflow client uploads a trace's traces.json through the artifact proxy when StartTraceV3's
// answer asks it to (docs/tracing.md). The file holds every span of that process, but not those
// another process logged one by one into the same trace (a distributed trace), which may be stored
// already: replacing the file would lose them. So an upload to a stored trace's traces.json keeps
// the stored spans it lacks, as an OTLP merge keeps those of the file.

const TRACE_DATA_KEY = /(?:^|\/)traces\/(tr-[0-9a-f]{32})\/artifacts\/traces\.json$/;

/** The trace whose traces.json this key is, if it is a stored trace's. */
async function traceOfKey(deps: Deps, key: string): Promise<string | undefined> {
  const traceId = TRACE_DATA_KEY.exec(key)?.[1];
  if (!traceId) return undefined;
  const [row] = await rows<{ artifact_location: string }>(deps.db, sql`select artifact_location from traces where trace_id = ${traceId}`);
  return row && traceDataKey(row.artifact_location) === key ? traceId : undefined;
}

/**
 * The body's first bytes up to `limit` (and one chunk past it, if longer), and the body whole: the
 * bytes read, then the rest (the loop leaves the stream readable, as readBodyBytes does).
 */
async function head(key: string, body: Readable, limit: number): Promise<{ read: Buffer[]; ended: boolean; whole: Readable }> {
  const read: Buffer[] = [];
  let size = 0;
  let ended = true;
  try {
    for await (const chunk of body.iterator({ destroyOnReturn: false })) {
      read.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > limit) {
        ended = false;
        break;
      }
    }
  } catch (err) {
    if (body.errored) throw invalidParam(`Upload of '${key}' was interrupted before the body was complete`);
    throw err;
  }
  const rest = async function* () {
    yield* read;
    yield* body;
  };
  return { read, ended, whole: Readable.from(ended ? read : rest()) };
}

/**
 * Stores an uploaded artifact: a stored trace's traces.json with the stored spans it lacks added,
 * any other file (and one past the size a merge reads) as it is.
 */
export async function uploadArtifactOrTraceData(deps: Deps, key: string, body: Readable): Promise<void> {
  const traceId = await traceOfKey(deps, key);
  if (!traceId) return uploadArtifact(deps, key, body);
  const { read, ended, whole } = await head(key, body, MAX_SPANS_BYTES);
  const uploaded = ended ? Buffer.concat(read) : undefined;
  const data = uploaded && parseTraceData(uploaded);
  if (!uploaded || !data) {
    // Streamed as it comes (not under the trace's lock: a slow client would hold a connection).
    await uploadArtifact(deps, key, whole);
    if (!ended) await tooLargeForGetTrace(deps.db, traceId);
    return;
  }
  await deps.db.transaction(async (tx) => {
    // Ordered with the span merges of this trace (otlp-batch.ts): none lands between the read and the write.
    await lockTraceWrites(tx, [traceId]);
    const have = new Set(data.spans.map((s) => s.span_id));
    const missing = (await storedSpansIfReadable(deps, key)).filter((s) => !have.has(s.span_id));
    const spans = [...data.spans, ...missing];
    const merged = missing.length ? Buffer.from(JSON.stringify({ ...data.rest, spans: spans.sort(byStart) })) : uploaded;
    await proxyStore(deps).put(key, merged, 'application/json');
    await writeSpanRows(tx, traceId, spans);
    if (merged.length > MAX_SPANS_BYTES) await tooLargeForGetTrace(tx, traceId);
  });
}

/** The stored spans; none from a file too large to merge (the upload then replaces it). */
async function storedSpansIfReadable(deps: Deps, key: string): Promise<SpanRecord[]> {
  try {
    return await storedSpans(deps, key);
  } catch (err) {
    if (err instanceof MlflowError && err.code === 'INVALID_STATE') return [];
    throw err;
  }
}

/** The rows of the trace's spans (span-rows.ts), all of them: a file uploaded again may change any. */
async function writeSpanRows(tx: Orm, traceId: string, spans: SpanRecord[]): Promise<void> {
  const upsert = spanRowsUpsert(spans.filter((s) => typeof s?.span_id === 'string').map((s): [string, SpanRecord] => [traceId, s]));
  if (upsert) await tx.execute(upsert);
  await tx.execute(sql`update traces set spans_indexed = true where trace_id = ${traceId} and not spans_indexed`);
}

/** Reads no longer send the client to GetTrace for this trace's spans (read.ts), which refuses such a file. */
async function tooLargeForGetTrace(db: Orm, traceId: string): Promise<void> {
  await db.execute(sql`update traces set spans_logged = false where trace_id = ${traceId} and spans_logged`);
}
