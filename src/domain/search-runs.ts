import { sql, type SQL } from 'drizzle-orm';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { decodeRunPageToken, encodeRunPageToken, type RunPageKey } from '../lib/page-token.js';
import type { ViewType } from '../lib/zod-wire.js';
import { experimentIdOf } from './ids.js';
import { loadRunsJson, MAX_KEPT_PAGE, withKeptBodies, type KeptBodies, type RunsJson } from './run-cache.js';
import type { RunWire } from './run-read.js';
import {
  adjacentValue,
  keyedFilterCount,
  keyedMatches,
  keyedWalkLength,
  matchableMetric,
  metricMatches,
  nameWalkProbed,
  narrowable,
  RUN_SEARCH_DIALECT,
  runCondition,
  runMatchCondition,
  runSearchQuery,
  startTimeAscending,
  statusDescending,
  tieredOrderTerm,
  type Narrowing,
} from './search/runs-sql.js';
import type { PlanMemo } from './search/plan-memo.js';
import { parseFilter } from './search/parse.js';
import { probeNameWalk, walkOrSort } from './search/run-name-walk.js';
import { parseOrderBy, type OrderTerm } from './search/order-by.js';
import type { Comparison } from './search/parse.js';
import { LIMITS, validateMaxResults } from './validation.js';

export type RunQuery = Omit<Parameters<typeof runSearchQuery>[0], 'offset' | 'limit' | 'tier' | 'narrow'>;
type Db = Deps['db'];

export async function searchRuns(
  deps: Deps,
  input: SearchRunsInput,
): Promise<{ runs?: RunWire[]; next_page_token?: string }> {
  const page = await searchRunsPage(deps, input);
  const out: { runs?: RunWire[]; next_page_token?: string } = {};
  if (page.count) out.runs = JSON.parse(`[${page.json.join(',')}]`) as RunWire[];
  if (page.next_page_token !== undefined) out.next_page_token = page.next_page_token;
  return out;
}

type SearchRunsInput = { experiment_ids?: string[]; filter?: string; run_view_type?: ViewType; max_results?: number; order_by?: string[]; page_token?: string };

/**
 * searchRuns' answer as the JSON text `c.json` would send, each run written once (run-cache.ts), in
 * pieces to send in turn: a page of 50,000 runs is ~45 MB, and joining it would copy it again.
 */
export async function searchRunsBody(deps: Deps, input: SearchRunsInput): Promise<string[]> {
  const page = await searchRunsPage(deps, input);
  const pieces = ['{'];
  if (page.count) pieces.push('"runs":[', ...page.json.flatMap((part, i) => (i ? [',', part] : [part])), ']');
  if (page.next_page_token !== undefined) pieces.push(`${page.count ? ',' : ''}"next_page_token":${JSON.stringify(page.next_page_token)}`);
  pieces.push('}');
  return pieces;
}

/** One page of a run search, its runs as JSON (loadRunsJson). */
async function searchRunsPage(deps: Deps, input: SearchRunsInput): Promise<RunsJson & { next_page_token?: string }> {
  const limit = validateMaxResults(input.max_results, LIMITS.searchRunsMaxResults, 1000);
  const { offset, after } = decodeRunPageToken(input.page_token);
  const experimentIds = (input.experiment_ids ?? []).map(experimentIdOf);
  if (!experimentIds.length) return { json: [], count: 0, last: () => undefined };
  const query: RunQuery = { experimentIds, filter: input.filter, runViewType: input.run_view_type ?? 'ACTIVE_ONLY', orderBy: input.order_by };
  const keyed = parseOrderBy(query.orderBy, RUN_SEARCH_DIALECT).length === 0;
  // One more id than asked for tells whether another page exists without a count query.
  const page = keyed && after ? await keysetPage(deps.db, query, after, limit + 1, deps.plans) : await planRunPage(deps.db, query, offset, limit + 1, NARROW_THRESHOLDS, deps.plans);
  // The ids with the runs' kept bodies in one statement (withKeptBodies); ids found by several
  // statements, or a page too large to keep, read the bodies by a prepared statement after them.
  let ids: { run_id: string }[];
  let kept: KeptBodies | undefined;
  if ('ids' in page) ids = page.ids;
  else if (limit > MAX_KEPT_PAGE) ids = await rows<{ run_id: string }>(deps.db, page.query);
  else ids = kept = await rows<{ run_id: string; body: string | null }>(deps.db, withKeptBodies(page.query));
  const runs = await loadRunsJson(deps.db, ids.slice(0, limit).map((r) => r.run_id), kept);
  if (ids.length <= limit) return runs;
  // In the default order the token also names the page's last run, where the next page starts
  // (keysetPage); the offset stays in it for a client that pages on with another order.
  const last = keyed ? runs.last() : undefined;
  const key = keyed && last?.run_id === ids[limit - 1].run_id ? { startTime: last.start_time === undefined ? null : String(last.start_time), runId: last.run_id } : undefined;
  return { ...runs, next_page_token: encodeRunPageToken(offset + limit, key) };
}

/**
 * A page in the default order after the run a page token names (RunPageKey): a range of
 * runs_experiment_start_idx that starts there, instead of an offset that reads every run before it
 * (the page 90% deep at 100k runs: 17 ms by offset, docs/bench.md). The same rows as the offset's
 * page while no run before it comes or goes; after a change, the page after that run.
 */
async function keysetPage(db: Db, query: RunQuery, after: RunPageKey, limit: number, memo?: PlanMemo): Promise<{ ids: { run_id: string }[] } | { query: SQL }> {
  const { narrow, small, hashedMetrics } = await narrowingFor(db, memo, query.filter, NARROW_THRESHOLDS, query, limit, true);
  const q = { ...query, narrow, hashedMetrics, fenced: small === true, offset: 0, limit };
  if (after.startTime === null) return { query: runSearchQuery({ ...q, keyset: { tier: 'unvalued', runId: after.runId } }) };
  const key = { tier: 'valued', startTime: after.startTime, runId: after.runId } as const;
  // A run-name pattern: a capped walk first, as for a first page (probeNameWalk).
  const names = !small && narrow?.form !== 'ids' ? nameWalkProbed(query) : null;
  let sorted = false;
  if (names) {
    const probe = await probeNameWalk(db, { ...q, keyset: key }, names, 0, limit);
    if ('ids' in probe) return probe;
    sorted = probe.sorted;
  }
  // The runs with a start_time after the key, then (when the page reaches past them) those without.
  const tier = (keyset: Parameters<typeof runSearchQuery>[0]['keyset'], sort = false) =>
    sql`(SELECT coalesce(array_agg(q.run_id), '{}') FROM (${runSearchQuery({ ...q, keyset, sorted: sort })}) q)`;
  return { query: sql`SELECT t.run_id FROM unnest(${tier(key, sorted)} || ${tier({ tier: 'unvalued' })}) WITH ORDINALITY AS t(run_id, ord) ORDER BY t.ord LIMIT ${limit}` };
}

/** The ids of one page of a run search, in order. */
export async function searchRunIds(
  db: Db,
  query: RunQuery,
  offset: number,
  limit: number,
  thresholds: NarrowThresholds = NARROW_THRESHOLDS,
  memo?: PlanMemo,
): Promise<{ run_id: string }[]> {
  const page = await planRunPage(db, query, offset, limit, thresholds, memo);
  return 'ids' in page ? page.ids : rows<{ run_id: string }>(db, page.query);
}

/**
 * One page of a run search: its ids when they took several statements to find (tiered or grouped
 * orderings), else the one query that selects them, for the caller to run (or to embed).
 */
async function planRunPage(
  db: Db,
  query: RunQuery,
  offset: number,
  limit: number,
  thresholds: NarrowThresholds = NARROW_THRESHOLDS,
  memo?: PlanMemo,
): Promise<{ ids: { run_id: string }[] } | { query: SQL }> {
  const defaultOrder = parseOrderBy(query.orderBy, RUN_SEARCH_DIALECT).length === 0;
  const { narrow, probedAll, small, hashedMetrics } = await narrowingFor(db, memo, query.filter, thresholds, query, offset + limit, defaultOrder);
  if (small) return { query: runSearchQuery({ ...query, narrow, hashedMetrics, fenced: true, offset, limit }) };
  const narrowed = { ...query, narrow };
  const position = offset + limit;
  // A few run ids (narrowed) are fetched as they are; a deep page is walked as before.
  const names = position <= WALKED_POSITIONS && narrow?.form !== 'ids' ? nameWalkProbed(query) : null;
  if (names) return walkOrSort(db, narrowed, names, offset, limit, memo);
  const tiered = tieredOrderTerm(query.filter, query.orderBy, probedAll);
  if (tiered && position <= WALKED_POSITIONS) {
    const walk = await walkLength(db, tiered, position, query, thresholds.smallScope?.runs ?? 0, memo);
    if (walk === 'small') return { query: runSearchQuery({ ...query, fenced: true, offset, limit }) };
    if (walk === 'short') return { ids: await tieredIds(db, narrowed, offset, limit) };
    if (walk === 'long' && !narrow) {
      const grouped = await groupedIds(db, query, tiered, offset, limit, thresholds);
      if (grouped) return { ids: grouped };
    }
  }
  // Attribute orderings an index of runs walks in parts (see startTimeAscending, statusDescending).
  // Few searched runs were sorted above (`small`), so no count is needed here.
  if (position <= WALKED_POSITIONS && startTimeAscending(query)) return { query: bothTiers(narrowed, offset, limit) };
  const status = position <= WALKED_POSITIONS ? statusDescending(query) : null;
  if (status) {
    const grouped = await groupedIds(db, narrowed, status, offset, limit, thresholds, thresholds.smallScope?.runs ?? 0);
    if (grouped) return { ids: grouped };
  }
  return { query: runSearchQuery({ ...narrowed, offset, limit }) };
}

// An order is walked (tiered) only when the walk to the page's end reads few rows more than the
// page's position; a long run of equal values is sorted instead (see keyedWalkLength): 100k runs
// ordered by metrics.lr, the same value in every run, took 0.87 s walked.
// Deep pages are sorted too: a walk to offset 50,000 reads as much as a sort and joins every row read.
const WALKED_POSITIONS = 10_000;

/**
 * Whether a walk of the order's index to `position` is short, from a capped count of the rows it
 * reads; 'small' when the searched runs are few enough (NarrowThresholds.smallScope) to sort them all
 * in one statement, which the same statement tells.
 */
async function walkLength(db: Db, term: OrderTerm, position: number, scope: RunQuery, small: number, memo?: PlanMemo): Promise<'short' | 'long' | 'small'> {
  // Remembered by the order term, the page's end and the runs searched (PlanMemo): filters aside.
  const key = memo && JSON.stringify(['walk', term, position, scope.experimentIds, scope.runViewType, small]);
  const known = key ? memo!.get<'short' | 'long' | 'small'>(key) : undefined;
  if (known) return known;
  const walk = await countWalk(db, term, position, scope, small);
  if (key) memo!.set(key, walk);
  return walk;
}

async function countWalk(db: Db, term: OrderTerm, position: number, scope: RunQuery, small: number): Promise<'short' | 'long' | 'small'> {
  const cap = 2 * position + 5000;
  const [{ n, runs }] = await rows<{ n: number; runs: number | null }>(
    db,
    sql`SELECT w.n, ${searchedRuns(scope, small)} AS runs FROM (${keyedWalkLength(term, position, cap)}) w`,
  );
  if (runs !== null && runs <= small) return 'small';
  return n < cap ? 'short' : 'long';
}

/** The number of runs a search covers (experiments and view type, not the filter), counted up to `small` + 1; NULL when `small` is 0. */
function searchedRuns(scope: Pick<RunQuery, 'experimentIds' | 'runViewType'> | undefined, small: number): SQL {
  if (!scope || small <= 0) return sql`NULL::int`;
  const where = runMatchCondition({ experimentIds: scope.experimentIds, runViewType: scope.runViewType });
  return sql`(SELECT count(*)::int FROM (SELECT 1 FROM runs r WHERE ${where} LIMIT ${small + 1}) s)`;
}

/**
 * Up to `ids` matching rows: the run ids go into the query itself; up to `hashed`: hashed (see
 * Narrowing in runs-sql.ts). 100k runs (docs/bench.md): `seed LIKE '1%'` (11k matches, the oldest
 * runs) 0.6 s as an EXISTS, 22–35 ms hashed; `seed = '5'` 0.5–0.8 s, 1–4 ms as ids; `optimizer =
 * 'adam'` (50k matches) stays an EXISTS (3–5 ms; 130 ms hashed). The count costs ~3 ms at most.
 * A dataset filter is hashed up to `datasetHashed` inputs: its rows come from a scan of every input
 * (no index by value), and a walk in run order stops early when matches are dense. 100k runs, a
 * dataset on every 10th: `datasets.name = 'ds-1'` (2k inputs) 43–58 ms as an EXISTS, 8–12 ms hashed;
 * `datasets.context = 'training'` (10k) 4–8 ms as an EXISTS, 8–14 ms hashed.
 */
export interface NarrowThresholds {
  ids: number;
  hashed: number;
  datasetHashed: number;
  /**
   * Searches over at most `runs` runs (the experiments and view type, before the filter) are walked
   * with every filter fenced, which reads them all at worst, unless the first filter counted matches
   * at most `ids` rows: fewer than a quarter of the runs searched (DENSE), a list of run ids (`seed
   * LIKE '1%'`, 111 of the oldest runs of 1k: walked, 9 ms a page); more, hashed in the walk (1k
   * runs, `optimizer = 'adam'`, half of them: the list would be 500 ids sent back, and probing its
   * index run by run costs more than one pass over its rows). Not tiered either: sorting that few
   * runs is cheap. None when absent.
   */
  smallScope?: { runs: number };
}
export const NARROW_THRESHOLDS: NarrowThresholds = { ids: 1000, hashed: 20_000, datasetHashed: 5000, smallScope: { runs: 2000 } };
// Counting stops at the first of these that a filter reaches; three filters probed at most.
const PROBED_FILTERS = 3;
// A filter with more matching rows than this share of all runs (the planner's estimate of them,
// pg_class.reltuples; none before the first ANALYZE) is probed run by run as the order is walked
// (Narrowing 'probed'), for pages within the first PROBED_POSITIONS runs: where the matches are
// spread as the count says, such a walk reads about four runs for each of the page's. Postgres
// cannot estimate a key-value pair, and its plans for such a filter went both ways (10k runs,
// `optimizer = 'adam'`, half of them: in the default order 3 ms hashed and 17 ms as an EXISTS, a
// hash join and a sort; ordered by a metric 18 ms hashed, a join and a sort of every match, and
// 2 ms as an EXISTS; docs/bench.md). Counting stops there too; in the default order a sample of the
// newest runs (SAMPLED_RUNS) tells it without a count. Deeper pages keep the hashed form, whose
// probe of each run walked is cheaper than an index probe.
const DENSE = 0.25;
const PROBED_POSITIONS = 1000;
const SAMPLED_RUNS = 200;

type Narrowed = Awaited<ReturnType<typeof chooseNarrowing>>;

/**
 * chooseNarrowing, answered from the memo when the same search (filter, experiments, view type,
 * thresholds, and the two things about the page that change the answer: near the start or not, in
 * the default order or not) was narrowed a moment ago. A list of run ids is read again, up to the
 * list's threshold: past it, the counts run again.
 */
async function narrowingFor(
  db: Db,
  memo: PlanMemo | undefined,
  filter: string | undefined,
  t: NarrowThresholds,
  scope: Pick<RunQuery, 'experimentIds' | 'runViewType'>,
  position: number,
  defaultOrder: boolean,
): Promise<Narrowed> {
  if (!memo || !narrowable(filter).length) return chooseNarrowing(db, filter, t, scope, position, defaultOrder);
  const key = JSON.stringify(['narrow', filter, scope.experimentIds, scope.runViewType, position <= PROBED_POSITIONS, defaultOrder, t]);
  const known = memo.get<Narrowed>(key);
  if (known && known.narrow?.form !== 'ids') return known;
  if (known?.narrow?.form === 'ids') {
    const comparison = parseFilter(filter, RUN_SEARCH_DIALECT)[known.narrow.index];
    const found = await rows<{ run_id: string }>(db, sql`${keyedMatches(comparison)} LIMIT ${t.ids + 1}`);
    if (found.length <= t.ids) return { ...known, narrow: { ...known.narrow, runIds: found.map((r) => r.run_id) } };
  }
  const answer = await chooseNarrowing(db, filter, t, scope, position, defaultOrder);
  memo.set(key, answer.narrow?.form === 'ids' ? { ...answer, narrow: { ...answer.narrow, runIds: [] } } : answer);
  return answer;
}

/**
 * The most selective narrowable param/tag/dataset filter and how to render it, from capped counts of its rows
 * on the (key, value) index (across experiments: a guide to the plan, never to the result).
 */
export async function chooseNarrowing(
  db: Db,
  filter: string | undefined,
  t: NarrowThresholds,
  scope?: Pick<RunQuery, 'experimentIds' | 'runViewType'>,
  position = Infinity,
  defaultOrder = false,
): Promise<{ narrow?: Narrowing; probedAll: boolean; small?: boolean; hashedMetrics?: number[] }> {
  const candidates = narrowable(filter);
  const probed = candidates.slice(0, PROBED_FILTERS);
  let best: { index: number; n: number; comparison: Comparison } | undefined;
  // The first filter that reached DENSE: probed run by run, unless another narrows the search.
  let denseIndex: number | undefined;
  for (const { index, comparison } of probed) {
    // A count first (an index-only scan, ~3 ms for 20k rows at most), the ids only when they are few.
    // It stops at the cap or, for a page near the start, sooner at DENSE of all runs: see DENSE.
    const cap = comparison.entity === 'dataset' ? Math.min(t.datasetHashed, t.hashed) : t.hashed;
    // s.dense: the statement's own column below (NULL: no cap, least() skips it). Its subquery is
    // fenced (OFFSET 0): flattened, Postgres ran s.runs and s.dense once per mention, and counting
    // 2,001 runs twice was half of this statement's time at 10k runs.
    const denseCap = sql`(SELECT CASE WHEN c.reltuples > 0 THEN greatest(${t.ids + 1}::int, ceil(c.reltuples * ${DENSE})::int) END
      FROM pg_class c WHERE c.oid = 'runs'::regclass)`;
    const capAt = sql`least(${cap}::int, s.dense)`;
    let count = sql`(SELECT count(*)::int FROM (${keyedMatches(comparison)} LIMIT ${capAt}) m)`;
    // In the default order near the start, the newest runs searched, where the walk begins, are
    // sampled first: a filter a quarter of them match is DENSE without its count (up to 20k index
    // entries, ~3 ms at 100k runs); -1 says so. Other orders walk other indexes, where the newest
    // runs tell nothing.
    if (defaultOrder && position <= PROBED_POSITIONS && scope) {
      const newest = sql`SELECT r.run_id FROM runs r WHERE ${runMatchCondition({ experimentIds: scope.experimentIds, runViewType: scope.runViewType })}
        ORDER BY r.start_time DESC NULLS LAST, r.run_id LIMIT ${SAMPLED_RUNS}`;
      const sampled = sql`(SELECT count(*) > 0 AND count(*) FILTER (WHERE ${runCondition(comparison, true)}) >= ceil(count(*) * ${DENSE}::float8) FROM (${newest}) r)`;
      count = sql`(CASE WHEN ${sampled} THEN -1 ELSE ${count} END)`;
    }
    // The first count also says, in the same statement, whether the searched runs are few; then the
    // count alone decides, up to the list of ids' threshold (no sample, no count to the cap).
    const small = scope && !best ? (t.smallScope?.runs ?? 0) : 0;
    const fewRunsCount = sql`(SELECT count(*)::int FROM (${keyedMatches(comparison)} LIMIT ${t.ids + 1}) m)`;
    const [{ n: counted, runs, dense }] = await rows<{ n: number; runs: number | null; dense: number | null }>(
      db,
      sql`SELECT CASE WHEN s.runs <= ${small} THEN ${fewRunsCount} ELSE ${count} END AS n, s.runs, s.dense
          FROM (SELECT ${searchedRuns(scope, small)} AS runs, ${position <= PROBED_POSITIONS ? denseCap : sql`NULL::int`} AS dense OFFSET 0) s`,
    );
    if (runs !== null && runs <= small) {
      // Few runs: walked with every filter fenced (`small`), which reads them all at worst, unless
      // this filter's few matching rows, which a quarter of the runs searched do not reach, are
      // cheaper as a list of ids (1k runs, `params.seed LIKE '1%'`, 111 of the oldest runs: the
      // whole walk 9 ms a page, the ids ~1 ms). A filter a quarter of them match or more, but with
      // few rows everywhere, is hashed in that walk (one pass over its rows, then a lookup a run)
      // rather than probed through its index run by run (1k runs, `optimizer = 'adam'`, half of
      // them, and `metrics.acc > 0.2` ordered by a metric: 5-6 ms of query with two probes a run).
      if (counted > t.ids) return { probedAll: false, small: true, ...(await hashableMetrics(db, filter, runs)) };
      if (counted >= DENSE * runs) return { narrow: { index, form: 'hashed' }, probedAll: false, small: true, ...(await hashableMetrics(db, filter, runs)) };
      best = { index, n: counted, comparison };
      break;
    }
    // At its cap a filter is too common to narrow, whatever another filter's cap.
    const sampledDense = counted === -1;
    const n = sampledDense || counted >= cap || (dense !== null && counted >= dense) ? Infinity : counted;
    if (sampledDense || (dense !== null && dense < cap && counted >= dense)) denseIndex ??= index;
    if (!best || n < best.n) best = { index, n, comparison };
    if (n <= t.ids) break;
  }
  // Whether every param/tag filter was counted (they come first among the candidates).
  const keyedProbed = probed.filter(({ comparison: c }) => c.entity === 'param' || c.entity === 'tag').length;
  const probedAll = keyedProbed === keyedFilterCount(filter);
  if ((!best || best.n === Infinity) && denseIndex !== undefined) return { narrow: { index: denseIndex, form: 'probed' }, probedAll };
  if (!best || best.n === Infinity) return { probedAll };
  if (best.n > t.ids) return { narrow: { index: best.index, form: 'hashed' }, probedAll };
  const found = await rows<{ run_id: string }>(db, keyedMatches(best.comparison));
  return { narrow: { index: best.index, form: 'ids', runIds: found.map((r) => r.run_id) }, probedAll };
}

// Metric filters counted for hashableMetrics, at most.
const HASHED_METRICS = 2;

/**
 * For a search of few runs (`runs`, at most NarrowThresholds.smallScope) that probes many of them:
 * the metric filters whose matching rows, in every experiment, are no more than the runs searched,
 * to be hashed (runSearchQuery's hashedMetrics) instead of probed run by run through the (run_id,
 * key) index. One pass over at most `runs` index entries costs less than a probe of each run walked
 * (1k runs, `optimizer = 'adam'` hashed, `metrics.acc > 0.2` ordered by metrics.loss: 4.8 ms of
 * query probed, 3.2 ms hashed; docs/bench.md). A key that many runs elsewhere log stays probed.
 */
async function hashableMetrics(db: Db, filter: string | undefined, runs: number): Promise<{ hashedMetrics?: number[] }> {
  const metrics = parseFilter(filter, RUN_SEARCH_DIALECT)
    .map((comparison, index) => ({ comparison, index }))
    .filter(({ comparison }) => matchableMetric(comparison))
    .slice(0, HASHED_METRICS);
  if (!metrics.length) return {};
  const counts = metrics.map(({ comparison }) => sql`(SELECT count(*)::int FROM (${metricMatches(comparison)} LIMIT ${runs + 1}) m)`);
  const [row] = await rows<{ n: number[] }>(db, sql`SELECT ARRAY[${sql.join(counts, sql`, `)}] AS n`);
  const hashed = metrics.filter((_, i) => Number(row.n[i]) <= runs).map(({ index }) => index);
  return hashed.length ? { hashedMetrics: hashed } : {};
}

// A grouped page reads at most this many values' groups; more (many small groups) is sorted instead.
const GROUPS = 4;

/**
 * Ordered by a param, tag or metric whose values tie across many runs (every run's `mlflow.user` is
 * 'bench', every run's `metrics.lr` 0.001: a walk of the index must read the whole group to order it
 * by start_time, 1.1 s at 100k runs, and a sort reads every run, ~0.2 s), or by status descending
 * (statusDescending): one value at a time, in order, each value's runs as a search of their own
 * (`<key> = <value>` added to the filter, ordered by the remaining terms), which walks the runs in
 * their natural order (for status, runs_experiment_status_idx) and stops at the page. Then, past the
 * last value, the runs without one (none for status), NaN included for a metric. The same rows and
 * order as one query; null when the page needs more than GROUPS values, or when the experiments
 * and stage searched hold at most `small` runs (sorted in one statement for less: counted in the
 * statement of the first value). The query's narrowing, if any, is kept in the groups of a status;
 * a keyed group may bring its own (a rare value).
 */
export async function groupedIds(
  db: Db,
  query: RunQuery & { narrow?: Narrowing },
  term: OrderTerm,
  offset: number,
  limit: number,
  thresholds: NarrowThresholds = NARROW_THRESHOLDS,
  small = 0,
): Promise<{ run_id: string }[] | null> {
  const own = parseFilter(query.filter, RUN_SEARCH_DIALECT).length;
  const rest = { ...query, orderBy: (query.orderBy ?? []).slice(1) };
  const keyed = term.entity !== 'attribute';
  // The statuses present in the experiment and stage, not among the matches: an index lookup each.
  const scope = { experimentIds: query.experimentIds, runViewType: query.runViewType };
  // A metric's value arrives as a number (PGlite) or as Postgres' shortest exact text (node-postgres).
  const typed = (v: string | number | null) => (v === null ? null : term.entity === 'metric' ? Number(v) : String(v));
  const next = async (after: string | number): Promise<string | number | null> =>
    typed((await rows<{ v: string | number | null }>(db, adjacentValue(term, after, scope)))[0].v);
  const [first] = await rows<{ v: string | number | null; runs: number | null }>(
    db,
    sql`SELECT a.v, ${searchedRuns(scope, small)} AS runs FROM (${adjacentValue(term, undefined, scope)}) a`,
  );
  if (first.runs !== null && first.runs <= small) return null;
  const out: { run_id: string }[] = [];
  let skip = offset;
  let value = typed(first.v);
  for (let group = 0; value !== null && out.length < limit; group++) {
    if (group === GROUPS) return null;
    const operand = typeof value === 'number' ? ({ kind: 'number', value } as const) : ({ kind: 'string', value } as const);
    const equal: Comparison = { entity: term.entity, key: term.key, op: '=', operand };
    let narrow = query.narrow;
    if (keyed) {
      // A rare value is fetched by its run ids (Postgres cannot estimate a key-value pair: see Narrowing).
      const [{ n }] = await rows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM (${keyedMatches(equal)} LIMIT ${thresholds.ids + 1}) m`);
      if (n <= thresholds.ids) narrow = { index: own, form: 'ids', runIds: (await rows<{ run_id: string }>(db, keyedMatches(equal))).map((r) => r.run_id) };
    }
    const inGroup = { ...rest, extra: [equal], narrow };
    if (skip > 0) {
      const before = runSearchQuery({ ...inGroup, offset: 0, limit: skip + 1 });
      const [{ n: size }] = await rows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM (${before}) t`);
      if (size <= skip) {
        skip -= size;
        value = await next(value);
        continue;
      }
    }
    out.push(...(await rows<{ run_id: string }>(db, runSearchQuery({ ...inGroup, offset: skip, limit: limit - out.length }))));
    skip = 0;
    if (out.length < limit) value = await next(value);
  }
  if (out.length === limit || !keyed) return out;
  const unvalued = await rows<{ run_id: string }>(db, runSearchQuery({ ...query, tier: 'unvalued', offset: skip, limit: limit - out.length }));
  return [...out, ...unvalued];
}

/**
 * Both tiers of a search (runSearchQuery's `tier`) in one statement: each tier's first `offset +
 * limit` runs, in order, one after the other, and the page of that. For `start_time ASC`, whose
 * tier without a start_time is an index range (`start_time IS NULL`) that costs next to nothing
 * when empty; one statement, one round trip.
 */
function bothTiers(query: RunQuery & { narrow?: Narrowing }, offset: number, limit: number): SQL {
  const tier = (t: 'valued' | 'unvalued') => runSearchQuery({ ...query, tier: t, offset: 0, limit: offset + limit });
  // array_agg over an ordered subquery keeps its order (documented for aggregates).
  const ids = (t: 'valued' | 'unvalued') => sql`(SELECT coalesce(array_agg(q.run_id), '{}') FROM (${tier(t)}) q)`;
  return sql`SELECT t.run_id FROM unnest(${ids('valued')} || ${ids('unvalued')}) WITH ORDINALITY AS t(run_id, ord) ORDER BY t.ord LIMIT ${limit} OFFSET ${offset}`;
}

/**
 * Ordered by a metric, param or tag first: the runs with a number (a value) for it, then (only when
 * the page reaches past them) those with NaN or none, as runSearchQuery's `tier` describes. The same rows and order as one
 * untiered query; usually one statement, two when the page straddles the tiers, and a count of the
 * first tier when the page starts beyond it.
 */
async function tieredIds(db: Db, query: RunQuery & { narrow?: Narrowing }, offset: number, limit: number): Promise<{ run_id: string }[]> {
  const valued = await rows<{ run_id: string }>(db, runSearchQuery({ ...query, tier: 'valued', offset, limit }));
  if (valued.length === limit) return valued;
  let valuedCount = offset + valued.length;
  if (!valued.length && offset > 0) {
    const all = runSearchQuery({ ...query, tier: 'valued', offset: 0, limit: Number.MAX_SAFE_INTEGER });
    [{ n: valuedCount }] = await rows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM (${all}) t`);
  }
  const rest = await rows<{ run_id: string }>(
    db,
    runSearchQuery({ ...query, tier: 'unvalued', offset: Math.max(0, offset - valuedCount), limit: limit - valued.length }),
  );
  return [...valued, ...rest];
}
