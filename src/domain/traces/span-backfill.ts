import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { MlflowError } from '../../errors.js';
import { spanRowsUpsert } from './span-rows.js';
import { storedSpans, traceDataKey, type SpanRecord } from './spans.js';
import { lockTraceWrites } from './spans-in-flight.js';

// Traces stored before span rows were kept (migration 0039) have their spans only in traces.json:
// once the server is up, this pass reads each file and writes its rows, a trace at a time under the
// trace's write lock (a merge or upload of the same trace waits), so span filters and span metrics
// cover the history too. It runs beside requests, a small batch at a time, and stops at the first
// fault of the database or the store (the next start goes on from where it stopped).

const BATCH = 20;

/** Writes the span rows of one trace stored before them (none when another writer got there first). */
async function indexTrace(deps: Deps, traceId: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await lockTraceWrites(tx, [traceId]);
    const [row] = await rows<{ artifact_location: string }>(tx, sql`
      select artifact_location from traces where trace_id = ${traceId} and not spans_indexed for update`);
    if (!row) return;
    const key = traceDataKey(row.artifact_location);
    let spans: SpanRecord[] = [];
    try {
      if (key !== undefined) spans = await storedSpans(deps, key);
    } catch (err) {
      // A file too large to read whole has no rows (as a merge leaves it); faults stop the pass.
      if (!(err instanceof MlflowError) || err.code !== 'INVALID_STATE') throw err;
    }
    const upsert = spanRowsUpsert(spans.filter((s) => typeof s?.span_id === 'string').map((s): [string, SpanRecord] => [traceId, s]));
    if (upsert) await tx.execute(upsert);
    await tx.execute(sql`update traces set spans_indexed = true where trace_id = ${traceId}`);
  });
}

/** Writes the span rows of every trace still without them; resolves when none is left or a fault stopped it. */
export async function backfillSpanRows(deps: Deps, isStopped: () => boolean = () => false): Promise<number> {
  let done = 0;
  try {
    while (!isStopped()) {
      const batch = await rows<{ trace_id: string }>(deps.db, sql`select trace_id from traces where not spans_indexed order by trace_id limit ${BATCH}`);
      if (!batch.length) break;
      for (const { trace_id } of batch) {
        if (isStopped()) break;
        await indexTrace(deps, trace_id);
        done++;
      }
    }
    if (done) deps.log.info('span rows written for traces stored before them', { traces: done });
  } catch (err) {
    deps.log.warn('span rows of older traces not all written; the next start goes on', { traces: done, error: String((err as Error)?.message ?? err) });
  }
  return done;
}
