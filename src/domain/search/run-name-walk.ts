import { sql, type SQL } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import type { PlanMemo } from './plan-memo.js';
import { runSearchQuery, type Narrowing } from './runs-sql.js';

// Searches in the default order filtered by a run-name pattern (runs-sql.ts' nameWalkProbed): a
// bounded probe of the walk decides between walking and sorting the matches from a name index.

type Db = Deps['db'];
type PageQuery = Parameters<typeof runSearchQuery>[0];

// The runs a capped walk reads (runSearchQuery's walkCap) for a page ending at `position`: about
// twice what a walk reads when every run matches, 302 runs for a first page of 100 (+1).
const walkCap = (position: number) => 2 * position + 100;
// A capped walk that fell short with at least position / WALK_GROWTH matches predicts an uncapped
// walk of at most WALK_GROWTH times the cap (the matches spread evenly), ~3,000 runs for a first
// page: walked. Fewer (under ~3% of the runs match there) are sorted, which costs in proportion to
// the matches: at 100k runs a walk costs about what sorting 3% of them does.
const WALK_GROWTH = 10;

/**
 * A page in the default order filtered by a run-name pattern (nameWalkProbed). Postgres walks it in
 * start_time order when it expects many matches, and reads every run before the first when they
 * are the oldest (`run_name LIKE 'run-1%'` at 100k runs: 80,000); it sorts the matches from an
 * index when it expects few. The probe: the first `position` matches among the first walkCap runs,
 * which are the page whenever there are that many (the matches among the newest runs, the common
 * case, walked as far as the uncapped walk would be); else, from how many there were, the rest of
 * the walk is predicted short (then walked) or long, or there were none (then sorted: the matches
 * found through a name index, runSearchQuery's `sorted`, 30 ms walked and 9 ms sorted for
 * `LIKE 'run-1%'`, docs/bench.md). A pattern with a leading wildcard has an index only where the
 * trigram index exists (pg_trgm); without it the sort would read every name, so it keeps the walk.
 */
export async function probeNameWalk(
  db: Db,
  query: PageQuery,
  names: 'prefix' | 'pattern',
  offset: number,
  limit: number,
): Promise<{ ids: { run_id: string }[] } | { sorted: boolean }> {
  const position = offset + limit;
  // From the first match (not the offset): a short answer then counts the matches the cap held.
  const walked = await rows<{ run_id: string }>(db, runSearchQuery({ ...query, offset: 0, limit: position, walkCap: walkCap(position) }));
  if (walked.length === position) return { ids: walked.slice(offset) };
  if (walked.length > 0 && walked.length * WALK_GROWTH >= position) return { sorted: false };
  return { sorted: names === 'prefix' || (await trigramIndex(db)) };
}

// Per database handle, looked up at most once a minute: whether the trigram index exists (migration
// 0032 skips it without pg_trgm; an administrator may add it later, as the start-up warning says).
// A cache safe to lose: a stale answer changes a plan, never an answer.
const trigramIndexes = new WeakMap<Db, { present: Promise<boolean>; at: number }>();
const TRIGRAM_RECHECK_MS = 60_000;

function trigramIndex(db: Db): Promise<boolean> {
  const known = trigramIndexes.get(db);
  if (known && Date.now() - known.at < TRIGRAM_RECHECK_MS) return known.present;
  const present = rows<{ present: boolean }>(db, sql`SELECT to_regclass('runs_name_trgm_idx') IS NOT NULL AS present`).then(([r]) => r.present);
  trigramIndexes.set(db, { present, at: Date.now() });
  present.catch(() => trigramIndexes.delete(db));
  return present;
}

/** A page of such a search (probeNameWalk's page, or the walk or the sort it chose). */
export async function walkOrSort(
  db: Db,
  query: Omit<PageQuery, 'offset' | 'limit'> & { narrow?: Narrowing },
  names: 'prefix' | 'pattern',
  offset: number,
  limit: number,
  memo?: PlanMemo,
): Promise<{ ids: { run_id: string }[] } | { query: SQL }> {
  // A probe that fell short picked walking or sorting: remembered (PlanMemo), the next search of
  // the same page goes straight to that statement (`run_name ILIKE '%-99'` at 1k runs: the probe
  // was half of it). Either statement answers the same page; only its cost depends on the choice.
  const key = JSON.stringify(['names', query.filter, query.experimentIds, query.runViewType, query.orderBy ?? [], offset, limit]);
  const known = memo?.get<boolean>(key);
  if (known !== undefined) return { query: runSearchQuery({ ...query, offset, limit, sorted: known }) };
  const probe = await probeNameWalk(db, { ...query, offset, limit }, names, offset, limit);
  if ('ids' in probe) return probe;
  memo?.set(key, probe.sorted);
  return { query: runSearchQuery({ ...query, offset, limit, sorted: probe.sorted }) };
}
