import { sql } from 'drizzle-orm';
import type { Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { textArray } from '../../lib/pg-array.js';

// The traces whose spans this process is storing right now (OTLP requests in the group commit).
// The mlflow client sends a trace's last spans and its StartTraceV3 at the same moment, from two
// worker threads; StartTraceV3 waiting for spans already received lets its answer say they are
// stored, so the client does not upload traces.json as well (docs/tracing.md). A cache of in-flight
// work, one per Deps (per server), safe to lose with the process: another process's spans are not
// waited for, and the client then uploads the file, which is correct too.
const inFlight = new WeakMap<Deps, Map<string, Promise<void>>>();

/** Records that the spans of these traces are being stored until `stored` settles. */
export function trackSpansInFlight(deps: Deps, traceIds: Iterable<string>, stored: Promise<void>): void {
  let byTrace = inFlight.get(deps);
  if (!byTrace) inFlight.set(deps, (byTrace = new Map()));
  const ids = [...traceIds];
  for (const id of ids) byTrace.set(id, stored);
  const forget = () => {
    for (const id of ids) if (byTrace.get(id) === stored) byTrace.delete(id);
  };
  stored.then(forget, forget);
}

/** Waits until the spans of this trace this process is storing, if any, are stored or refused (their sender gets the outcome). */
export async function spansInFlight(deps: Deps, traceId: string): Promise<void> {
  const stored = inFlight.get(deps)?.get(traceId);
  if (stored) await stored.catch(() => undefined);
}

/**
 * The transaction-scoped locks that order the writers of these traces' rows, taken in key order (no
 * deadlock between two writers of several), as a query of one row: a statement can take them in a
 * subquery (StartTraceV3, write.ts, with its experiment's check). Span merges (otlp-batch.ts),
 * uploads and StartTraceV3 all take them: a merge that found no row for a trace then never meets
 * one that StartTraceV3 wrote meanwhile.
 */
export const traceWriteLocks = (traceIds: string[]) => sql`select count(pg_advisory_xact_lock(k)) from
    (select distinct hashtext('otlp:' || t) as k from unnest(${textArray(traceIds)}::text[]) as t order by k) as keys`;

/** Takes traceWriteLocks in a statement of their own. */
export async function lockTraceWrites(tx: Orm, traceIds: string[]): Promise<void> {
  await tx.execute(traceWriteLocks(traceIds));
}
