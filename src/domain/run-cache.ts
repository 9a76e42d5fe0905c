import { sql, type SQL } from 'drizzle-orm';
import { preparedRows, rows, type Orm } from '../db/connect.js';
import { textArray } from '../lib/pg-array.js';
import { loadRunsRead, type RunInfoWire, type RunWire } from './run-read.js';

// The MLflow client's page (SEARCH_MAX_RESULTS_DEFAULT), and the part a larger page is read in.
// A larger page (up to 50,000 runs, ~45 MB of JSON) is read part by part and its bodies are not
// kept: keeping 50,000 bodies as one array parameter took 5.0 s and 344 MiB instead of 4.3 s and
// 228 MiB, and brought a server held to a 512 MB heap down. Hydrating it whole in one statement
// held every run's objects at once: 553 MiB of RSS for the page of 50,000 (docs/bench.md).
const KEPT_PAGE = 1000;

/**
 * A page of runs as JSON: the objects of the answer's `runs` list, in order, as comma-separated
 * parts (one for each KEPT_PAGE runs), which a large answer sends one after another.
 */
export interface RunsJson {
  json: string[];
  count: number;
  /** The page's last run, for its page token: parsed only by a page that needs one. */
  last(): RunInfoWire | undefined;
}

/**
 * The runs of `runIds` as search_runs sends them, in that order; ids without a run are left out. A
 * run read before and unchanged since is its body in run_json, read with the others in one
 * statement; the rest are hydrated (loadRunsRead), serialized as JSON.stringify would serialize them
 * in the answer, and kept for the next read (in a page of at most KEPT_PAGE). A page of 100 kept runs
 * costs Postgres and Node a fraction of its hydration (docs/bench.md, "run_json").
 */
export async function loadRunsJson(db: Orm, runIds: string[], kept?: KeptBodies): Promise<RunsJson> {
  const parts: string[] = [];
  let count = 0;
  let lastText: string | undefined;
  for (let i = 0; i < runIds.length; i += KEPT_PAGE) {
    const texts = await loadRunTexts(db, runIds.slice(i, i + KEPT_PAGE), runIds.length <= KEPT_PAGE, kept);
    if (!texts.length) continue;
    parts.push(texts.join(','));
    count += texts.length;
    lastText = texts.at(-1);
  }
  return { json: parts, count, last: () => (lastText === undefined ? undefined : (JSON.parse(lastText) as RunWire).info) };
}

/** Rows of withKeptBodies: a page's runs, each with its kept body or null. */
export type KeptBodies = readonly { run_id: string; body: string | null }[];

/**
 * A page's id query with each run's kept body (null when none is kept) beside its id, in the
 * query's order: one round trip instead of two for a page of up to KEPT_PAGE runs. The body is a
 * primary-key probe per row, a correlated subquery over the ordered page, which it does not reorder.
 */
export function withKeptBodies(ids: SQL): SQL {
  return sql`SELECT q.run_id, (SELECT j.body FROM run_json j WHERE j.run_id = q.run_id) AS body FROM (${ids}) q`;
}

export const MAX_KEPT_PAGE = KEPT_PAGE;

async function loadRunTexts(db: Orm, runIds: string[], keep: boolean, given?: KeptBodies): Promise<string[]> {
  if (!runIds.length) return [];
  const kept: KeptBodies =
    given ??
    (await preparedRows<{ run_id: string; body: string }>(
      db,
      'cairn_run_bodies',
      sql`select run_id, body from run_json where run_id = any(${textArray(runIds)}::text[]) and body is not null`,
    ));
  const texts = new Map<string, string>();
  for (const r of kept) if (r.body !== null) texts.set(r.run_id, r.body);
  const missing = runIds.filter((id) => !texts.has(id));
  if (missing.length) {
    const { runs, snapshot } = await loadRunsRead(db, missing);
    const built = runs.map((run) => [run.info.run_id, JSON.stringify(run)] as const);
    for (const [id, text] of built) texts.set(id, text);
    // Kept after the answer, not before it: storing 100 bodies costs Postgres ~4 ms (100 row
    // updates and their WAL), which would make every first read of a page that much slower.
    if (keep && built.length) void keepBodies(db, built, snapshot);
  }
  const out: string[] = [];
  for (const id of runIds) {
    const text = texts.get(id);
    if (text !== undefined) out.push(text);
  }
  return out;
}

/**
 * Stores bodies read in `snapshot`, for the runs whose last write (run_json.dirty_xid, set by the
 * triggers of migration 0030) that snapshot includes: a write committed after it, or still in
 * progress, leaves the body empty for a later read to build. Rows a writer holds are skipped rather
 * than waited for (SKIP LOCKED), so a read never waits on a write or deadlocks with one. A failure
 * only means the next read builds these runs again, so it is not the request's failure, and never
 * rejects.
 */
export async function keepBodies(db: Orm, built: readonly (readonly [string, string])[], snapshot: string): Promise<void> {
  const ids = textArray(built.map(([id]) => id));
  const bodies = textArray(built.map(([, text]) => text));
  try {
    await rows(
      db,
      sql`with target as (
            select j.run_id from run_json j
            where j.run_id = any(${ids}::text[]) and j.body is null
              and (j.dirty_xid is null or pg_visible_in_snapshot(j.dirty_xid, ${snapshot}::pg_snapshot))
            for update skip locked)
          update run_json j set body = u.body
          from unnest(${ids}::text[], ${bodies}::text[]) as u(run_id, body)
          where j.run_id = u.run_id and j.run_id in (select run_id from target)`,
    );
  } catch {
    // See above: the bodies stay empty.
  }
}
