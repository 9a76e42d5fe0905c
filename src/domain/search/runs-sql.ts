import { sql, type SQL } from 'drizzle-orm';
import { invalidParam } from '../../errors.js';
import { numberArray, textArray } from '../../lib/pg-array.js';
import { parseOrderBy, type OrderTerm } from './order-by.js';
import {
  lookup,
  NUMERIC_OPS,
  parseFilter,
  type Comparator,
  type Comparison,
  type NamedField,
  type Operand,
  type SearchDialect,
} from './parse.js';

// search_runs: MLflow filter + order_by -> one parameterised SELECT of run ids. Client text only
// ever travels as bind parameters; table, column and operator text comes from the allow-lists here.

const STRING_ATTR_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const KEYED_STRING_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'];
const SET_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

const str = (key: string, ops = STRING_ATTR_OPS): NamedField => ({ key, type: 'string', ops });
const num = (key: string): NamedField => ({ key, type: 'number', ops: NUMERIC_OPS });

export const RUN_SEARCH_DIALECT: SearchDialect = {
  subject: 'runs',
  prefixes: {
    metric: 'metric',
    metrics: 'metric',
    parameter: 'param',
    parameters: 'param',
    param: 'param',
    params: 'param',
    tag: 'tag',
    tags: 'tag',
    attribute: 'attribute',
    attributes: 'attribute',
    attr: 'attribute',
    run: 'attribute',
    dataset: 'dataset',
    datasets: 'dataset',
  },
  openEntities: {
    metric: { type: 'number', ops: NUMERIC_OPS },
    param: { type: 'string', ops: KEYED_STRING_OPS },
    tag: { type: 'string', ops: KEYED_STRING_OPS },
  },
  namedFields: {
    // lifecycle_stage and experiment_id are not searchable in MLflow (run_view_type / experiment_ids
    // cover them), so they are absent here too.
    attribute: {
      run_id: str('run_id', SET_OPS),
      run_name: str('run_name'),
      'run name': str('run_name'),
      'Run name': str('run_name'),
      'Run Name': str('run_name'),
      status: str('status'),
      user_id: str('user_id'),
      artifact_uri: str('artifact_uri'),
      start_time: num('start_time'),
      end_time: num('end_time'),
      created: num('start_time'),
      Created: num('start_time'),
    },
    dataset: { name: str('name', SET_OPS), digest: str('digest', SET_OPS), context: str('context', SET_OPS) },
  },
  orderBy: {
    openEntities: ['metric', 'param', 'tag'],
    attributes: {
      run_id: 'run_id',
      run_name: 'run_name',
      'run name': 'run_name',
      'Run name': 'run_name',
      'Run Name': 'run_name',
      status: 'status',
      user_id: 'user_id',
      artifact_uri: 'artifact_uri',
      start_time: 'start_time',
      end_time: 'end_time',
      created: 'start_time',
      Created: 'start_time',
    },
  },
};

type ColumnType = 'text' | 'bigint' | 'float8';
interface Column {
  sql: string;
  type: ColumnType;
  /** NOT NULL in the schema: ordered without NULLS LAST, so that a DESC order can walk an index backwards. */
  notNull?: boolean;
  /**
   * The second column of an index in "C" (runs_experiment_name_idx, runs_experiment_status_idx):
   * `=`, `!=` and LIKE are written in "C" too (the same answer in any deterministic collation), so
   * that the index serves them.
   */
  collated?: boolean;
}

const RUN_COLUMNS: Readonly<Record<string, Column>> = {
  run_id: { sql: 'r.run_id', type: 'text', notNull: true },
  run_name: { sql: 'r.name', type: 'text', notNull: true, collated: true },
  status: { sql: 'r.status', type: 'text', notNull: true, collated: true },
  user_id: { sql: 'r.user_id', type: 'text', notNull: true },
  artifact_uri: { sql: 'r.artifact_uri', type: 'text', notNull: true },
  start_time: { sql: 'r.start_time', type: 'bigint' },
  end_time: { sql: 'r.end_time', type: 'bigint' },
};

const WALKED_COLUMNS = [...new Set(Object.values(RUN_COLUMNS).map((c) => c.sql))].join(', ');

// Order terms only (parseOrderBy lets them through for the UI's search alone), never filters.
const UI_ORDER_COLUMNS: Readonly<Record<string, Column>> = {
  duration: { sql: '(r.end_time - r.start_time)', type: 'bigint' },
  experiment_id: { sql: 'r.experiment_id', type: 'bigint' },
};

const KEYED_TABLES = { metric: 'latest_metrics', param: 'params', tag: 'run_tags' } as const;

const SQL_OPERATORS: Readonly<Partial<Record<Comparator, string>>> = {
  '=': '=',
  '!=': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  LIKE: 'LIKE',
  ILIKE: 'ILIKE',
};

/**
 * `<column> <op> <operand>` for one comparison, shared by every search renderer. Numbers are sent as
 * text cast to the column's type, so fractions, ±Infinity (1e999) and huge integers reach Postgres
 * the same way through both drivers; anything a bigint cannot hold is compared as float8.
 */
export function predicate(column: SQL, op: Comparator, operand: Operand, type: ColumnType): SQL {
  switch (operand.kind) {
    case 'none':
      return op === 'IS NULL' ? sql`${column} IS NULL` : sql`${column} IS NOT NULL`;
    case 'list': {
      const values = sql`${textArray(operand.values)}::text[]`;
      return op === 'IN' ? sql`${column} = ANY(${values})` : sql`${column} <> ALL(${values})`;
    }
    case 'string':
      return sql`${column} ${operator(caselessLike(op, operand.value))} ${operand.value}::text`;
    case 'number': {
      const asBigint = type === 'bigint' && Number.isSafeInteger(operand.value);
      const value = asBigint ? sql`${String(operand.value)}::bigint` : sql`${String(operand.value)}::float8`;
      return sql`${column} ${operator(op)} ${value}`;
    }
  }
}

/**
 * ILIKE with a pattern that has no letters (`'%-99'`) is LIKE: lower-casing changes only letters, and
 * only into letters. LIKE skips lower-casing every value, which Postgres does per row in a UTF-8
 * database (`run_name ILIKE '%-99'` over 100k runs: ~50 ms as ILIKE, ~12 ms as LIKE). Kept to ASCII
 * patterns, whose characters are plainly caseless.
 */
function caselessLike(op: Comparator, pattern: string): Comparator {
  return op === 'ILIKE' && /^[\x00-\x40\x5b-\x60\x7b-\x7f]*$/.test(pattern) ? 'LIKE' : op;
}

/**
 * A LIKE (or an ILIKE that caselessLike sends as LIKE) whose pattern starts with a literal: a range
 * of a btree in "C" serves it (runs_experiment_name_idx). Any other LIKE stays in the database's
 * collation (the same answer: LIKE compares characters, whatever the deterministic collation), the
 * collation of the trigram index on run names (migration 0032), which serves any pattern.
 */
export function prefixLike(c: Comparison): boolean {
  if (c.operand.kind !== 'string' || caselessLike(c.op, c.operand.value) !== 'LIKE') return false;
  return !/^[%_]/.test(c.operand.value);
}

function operator(op: Comparator): SQL {
  const text = SQL_OPERATORS[op];
  if (!text) throw invalidParam(`Invalid comparator '${op}'`);
  return sql.raw(text);
}

// Planning cost, not execution, is what grows with the number of clauses: every EXISTS becomes a
// semi-join on run_id and every ordering key a join, and Postgres' planner slows down sharply past a
// dozen of them (50 filters and 10 order keys took seconds to plan). Up to these limits they stay
// joins, which is what makes the common one-to-three-clause search fast; beyond them, filters get an
// OFFSET 0 fence (run per candidate row via the (run_id, key) primary key) and ordering keys become
// correlated scalar subqueries.
export const JOINED_FILTERS = 8;
const JOINED_ORDER_KEYS = 4;

/** SQL for one comparison on runs `r`; `fenced` keeps a subquery out of the planner's join search. */
export function runCondition(c: Comparison, fenced = false): SQL {
  if (c.entity === 'attribute') {
    const column = lookup(RUN_COLUMNS, c.key);
    if (!column) throw invalidParam(`Invalid attribute key '${c.key}'`);
    const inC = column.collated && (c.op === '=' || c.op === '!=' || prefixLike(c));
    return predicate(sql.raw(inC ? `${column.sql} COLLATE "C"` : column.sql), c.op, c.operand, column.type);
  }
  const fence = sql.raw(fenced ? ' OFFSET 0' : '');
  if (c.entity === 'dataset') return sql`EXISTS (${datasetSubquery(c)}${fence})`;
  if (c.entity === 'metadata' || c.entity === 'feedback' || c.entity === 'expectation' || c.entity === 'span') throw invalidParam(`Invalid entity type '${c.entity}' for runs`);
  const table = sql.raw(KEYED_TABLES[c.entity]);
  const base = sql`SELECT 1 FROM ${table} k WHERE k.run_id = r.run_id AND k.key = ${c.key}`;
  // A run without the key never matches, except IS NULL; so `!=` also requires the key to exist.
  if (c.op === 'IS NULL') return sql`NOT EXISTS (${base}${fence})`;
  if (c.op === 'IS NOT NULL') return sql`EXISTS (${base}${fence})`;
  const test = c.entity === 'metric' ? metricTest(c) : keyedValueTest(c);
  return sql`EXISTS (${base} AND ${test}${fence})`;
}

function metricTest(c: Comparison): SQL {
  const test = predicate(sql.raw('k.value'), c.op, c.operand, 'float8');
  // Postgres orders NaN above every number; MLflow's NaN never satisfies < <= = > >= (IEEE), so
  // keep NaN out of the two comparisons where Postgres would let it through.
  return c.op === '>' || c.op === '>=' ? sql`${test} AND k.value <> 'NaN'::float8` : test;
}

/** A metric comparison (the grammar has no IS NULL for metrics), which metricMatches can render. */
export const matchableMetric = (c: Comparison): boolean => c.entity === 'metric' && c.op !== 'IS NULL' && c.op !== 'IS NOT NULL';

/**
 * `SELECT run_id` of the latest_metrics rows, in any experiment, that pass a metric comparison
 * (matchableMetric): a run has one row per key, so `run_id IN` this is the comparison's EXISTS.
 */
export function metricMatches(c: Comparison): SQL {
  return sql`SELECT k.run_id FROM latest_metrics k WHERE k.key = ${c.key} AND ${metricTest(c)}`;
}

// A run matches when any one of its dataset inputs matches (so `!=` and NOT IN mean "has an input
// that is not ..."). The context is the input tag mlflow.data.context, kept in its own column.
function datasetSubquery(c: Comparison): SQL {
  return datasetInputs(c, sql`SELECT 1`, sql`i.run_id = r.run_id AND `);
}

/** `<select> FROM run_dataset_inputs i … WHERE <where><the comparison>`: the inputs that pass it. */
function datasetInputs(c: Comparison, select: SQL, where: SQL): SQL {
  if (c.key === 'context') {
    const test = predicate(sql.raw('i.context'), c.op, c.operand, 'text');
    return sql`${select} FROM run_dataset_inputs i WHERE ${where}${test}`;
  }
  const column = c.key === 'name' ? 'd.name' : c.key === 'digest' ? 'd.digest' : null;
  if (!column) throw invalidParam(`Invalid dataset key '${c.key}'`);
  const test = predicate(sql.raw(column), c.op, c.operand, 'text');
  return sql`${select} FROM run_dataset_inputs i JOIN datasets d ON d.dataset_id = i.dataset_id WHERE ${where}${test}`;
}

export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';

/** lifecycle_stage predicate for a view type, or null for ALL. */
export function stageCondition(column: SQL, viewType: ViewType): SQL | null {
  if (viewType === 'ACTIVE_ONLY') return sql`${column} = 'active'`;
  if (viewType === 'DELETED_ONLY') return sql`${column} = 'deleted'`;
  if (viewType === 'ALL') return null;
  throw invalidParam(`Invalid view type '${String(viewType)}'`);
}

export function checkPage(offset: number, limit: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) throw invalidParam(`Invalid offset ${offset}`);
  if (!Number.isSafeInteger(limit) || limit < 0) throw invalidParam(`Invalid max_results ${limit}`);
}

export const direction = (ascending: boolean): SQL => sql.raw(ascending ? 'ASC' : 'DESC');

export function runSearchQuery(input: {
  experimentIds: number[];
  filter?: string;
  runViewType: ViewType;
  orderBy?: string[];
  offset: number;
  limit: number;
  /** Allow Cairn's order terms min(metrics.x), max(metrics.x), attributes.duration (the UI's search; not MLflow's). */
  uiTerms?: boolean;
  /**
   * When the first order term is a plain metric, a param or a tag (see tieredOrderKey): 'valued'
   * keeps only the runs with a number (a value) for it, 'unvalued' only those with NaN or none.
   * Together, in that order, they are the untiered result (which ranks numbers before NaN before
   * missing, and missing params and tags last). Also when it is `attributes.start_time ASC` (see
   * startTimeAscending): the runs with a start_time, then those without.
   */
  tier?: 'valued' | 'unvalued';
  /** One param/tag filter (its index among the parsed filter's comparisons) rendered by its matches: see Narrowing. */
  narrow?: Narrowing;
  /** Comparisons ANDed to the filter's, after them (a Narrowing may name them by index). */
  extra?: readonly Comparison[];
  /**
   * Every param, tag, metric and dataset filter fenced (tested run by run, as past JOINED_FILTERS):
   * for searches over few runs, where Postgres would otherwise hash every matching row of every
   * experiment (1k runs next to 10k others, `tags.mlflow.source.name = 'train.py'`: 11k tag rows
   * hashed for a page of 100) rather than walk the runs in order and stop at the page.
   */
  fenced?: boolean;
  /**
   * Metric filters (their indexes, as Narrowing's) rendered by their matches, hashed
   * (metricMatches): chooseNarrowing picks them for few searched runs when the key has few
   * matching rows in the whole database.
   */
  hashedMetrics?: readonly number[];
  /**
   * Default order only (no order terms): the runs after a page's last one (a keyset page). 'valued':
   * those with a start_time after (startTime, runId), as a range of runs_experiment_start_idx (an
   * OR with the runs without a start_time would read the index from its start instead); 'unvalued':
   * those without a start_time, after runId when given. The runs without a start_time follow every
   * run with one, so a page is the first tier's runs, then the second's.
   */
  keyset?: { tier: 'valued'; startTime: string; runId: string } | { tier: 'unvalued'; runId?: string };
  /**
   * Natural order only (naturalOrder): the page from the first `walkCap` runs of the experiment and
   * stage (and keyset), walked in order, the filter tested on those alone. The same page as without the cap
   * whenever it comes back full (`limit` runs); a shorter one says only that the walk would be
   * longer (see probeNameWalk in run-name-walk.ts).
   */
  walkCap?: number;
  /**
   * Natural order only (naturalOrder): the matches found by whatever plan Postgres estimates
   * cheapest for the filter alone (the OFFSET 0 keeps the order out of that choice), then sorted; the same page.
   * For matches that lie far along the walk in start_time order, which the planner cannot know.
   */
  sorted?: boolean;
}): SQL {
  const comparisons = [...parseFilter(input.filter, RUN_SEARCH_DIALECT), ...(input.extra ?? [])];
  const terms = parseOrderBy(input.orderBy, RUN_SEARCH_DIALECT, { uiTerms: input.uiTerms });
  checkPage(input.offset, input.limit);

  const where: SQL[] = [experimentScope(input.experimentIds)];
  const stage = stageCondition(sql.raw('r.lifecycle_stage'), input.runViewType);
  if (stage) where.push(stage);
  if ((input.walkCap !== undefined || input.sorted) && !naturalOrder(terms)) throw new Error('a capped walk or a sorted page is in the natural order only');
  const keyset = input.keyset;
  if (keyset) {
    if (terms.length) throw new Error('a keyset page is in the default order only');
    // run_id in its default collation, as the ORDER BY below compares it.
    if (keyset.tier === 'valued') {
      where.push(sql`r.start_time <= ${keyset.startTime}::bigint AND (r.start_time < ${keyset.startTime}::bigint OR r.run_id > ${keyset.runId}::text)`);
    } else {
      where.push(keyset.runId === undefined ? sql`r.start_time IS NULL` : sql`r.start_time IS NULL AND r.run_id > ${keyset.runId}::text`);
    }
  }
  // The runs walked (experiments, stage, keyset), before any filter.
  const scoped = where.length;
  const bounded = boundedMetrics(comparisons);
  const moved = new Set<Comparison>();
  if (input.tier) {
    const first = terms[0];
    const tierable = first && ((TIERED_ENTITIES.has(first.entity) && !first.aggregate) || isStartTimeAscending(first));
    if (!tierable) throw new Error('a search tier needs a metric, param, tag or start_time ASC as the first order term');
    // A metric's valued tier is the bounded case below with a bound that every number passes.
    if (input.tier === 'valued' && first.entity === 'metric') bounded.set(first.key, [...(bounded.get(first.key) ?? []), NUMBER_BOUND]);
  }

  // Missing values sort last in both directions (NULLS LAST); a NaN metric sorts after every number
  // but before a missing one. Text sorts by code point (COLLATE "C") so that PGlite and any Postgres
  // server, whatever its locale, return the same order.
  const joins: SQL[] = [];
  const order: SQL[] = [];
  terms.forEach((t, i) => {
    const dir = direction(t.ascending);
    if (t.entity === 'attribute' && i === 0 && input.tier && isStartTimeAscending(t)) {
      // runs_experiment_start_idx holds start_time DESC NULLS LAST: walked backwards it yields ASC
      // NULLS FIRST (with an incremental sort of each start_time's runs by run_id), the order of the
      // runs with a start_time; those without are one group, whose order the index walked forwards
      // gives as well (all their start_times are equal). Either way the same order as ASC NULLS LAST.
      if (input.tier === 'valued') {
        where.push(sql`r.start_time IS NOT NULL`);
        order.push(sql`r.start_time ASC NULLS FIRST`);
      } else {
        where.push(sql`r.start_time IS NULL`);
        order.push(sql`r.start_time DESC NULLS LAST`);
      }
      return;
    }
    if (t.entity === 'attribute') {
      const column = lookup(RUN_COLUMNS, t.key) ?? lookup(UI_ORDER_COLUMNS, t.key);
      if (!column) throw invalidParam(`Invalid order_by attribute '${t.key}'`);
      // run_id keeps the default collation: ids are lowercase hex, and it matches the index.
      const collate = column.type === 'text' && t.key !== 'run_id' ? sql.raw(' COLLATE "C"') : sql.raw('');
      // Without nulls, `DESC` (NULLS FIRST) is the same order as `DESC NULLS LAST` and is what a
      // backward walk of an ascending index yields (runs_experiment_name_idx).
      const nulls = sql.raw(column.notNull ? '' : ' NULLS LAST');
      order.push(sql`${sql.raw(column.sql)}${collate} ${dir}${nulls}`);
      return;
    }
    if (t.entity !== 'metric' && t.entity !== 'param' && t.entity !== 'tag') {
      throw invalidParam(`Invalid order_by entity '${t.entity}'`);
    }
    const table = sql.raw(KEYED_TABLES[t.entity]);
    // latest_metrics keeps the history's min and max next to the latest value.
    const field = sql.raw(t.aggregate ? `${t.aggregate}_value` : 'value');
    let value: SQL;
    if (joins.length < JOINED_ORDER_KEYS) {
      const alias = sql.raw(`o${i}`);
      const filters = t.entity === 'metric' && !t.aggregate ? bounded.get(t.key)?.filter((c) => !moved.has(c)) : undefined;
      if (filters?.length) {
        // Ordered by a metric that the filter bounds ("metrics.acc > 0.5 ... ORDER BY metrics.acc"):
        // every match has the metric and it is not NaN, so no missing/NaN ranks are needed. An inner
        // join with the bound on it, ordered by the bare value, lets Postgres walk the (key, value)
        // index in order and stop at the page instead of sorting every match (25k runs: ~4x faster).
        joins.push(sql` JOIN ${table} ${alias} ON ${alias}.run_id = r.run_id AND ${alias}.key = ${t.key}`);
        for (const c of filters) {
          where.push(predicate(sql`${alias}.value`, c.op, c.operand, 'float8'));
          moved.add(c);
        }
        where.push(sql`${alias}.value <> 'NaN'::float8`);
        order.push(sql`${alias}.value ${dir}`);
        return;
      }
      if (i === 0 && input.tier === 'valued' && t.entity !== 'metric') {
        // The runs with the param or tag, in the order of the (key, value COLLATE "C") index, which
        // Postgres walks (backwards for DESC: hence no NULLS LAST, there are no nulls here) and stops
        // at the page (order by params.seed at 100k runs: ~150 ms sorting all, ~5 ms walking).
        joins.push(sql` JOIN ${table} ${alias} ON ${alias}.run_id = r.run_id AND ${alias}.key = ${t.key}`);
        order.push(sql`${alias}.value COLLATE "C" ${dir}`);
        return;
      }
      joins.push(sql` LEFT JOIN ${table} ${alias} ON ${alias}.run_id = r.run_id AND ${alias}.key = ${t.key}`);
      value = sql`${alias}.${field}`;
      if (i === 0 && input.tier === 'unvalued' && t.entity !== 'metric') where.push(sql`${value} IS NULL`);
      if (i === 0 && input.tier === 'unvalued' && t.entity === 'metric') where.push(sql`(${value} IS NULL OR ${value} = 'NaN'::float8)`);
    } else {
      value = sql`(SELECT o.${field} FROM ${table} o WHERE o.run_id = r.run_id AND o.key = ${t.key})`;
    }
    if (t.entity === 'metric') {
      order.push(sql`CASE WHEN ${value} IS NULL THEN 2 WHEN ${value} = 'NaN'::float8 THEN 1 ELSE 0 END`);
      order.push(sql`${value} ${dir}`);
    } else {
      order.push(sql`${value} COLLATE "C" ${dir} NULLS LAST`);
    }
  });
  let subqueries = 0;
  comparisons.forEach((c, i) => {
    if (moved.has(c)) return;
    if (input.narrow?.index === i) where.push(narrowedCondition(c, input.narrow));
    else if (input.hashedMetrics?.includes(i) && matchableMetric(c)) where.push(sql`(r.run_id IN (${metricMatches(c)}) OR FALSE)`);
    else where.push(runCondition(c, c.entity !== 'attribute' && (input.fenced || ++subqueries > JOINED_FILTERS)));
  });
  // MLflow's tie-breakers: its natural order (start_time DESC) unless ordered by it, then run_id.
  if (!terms.some((t) => t.entity === 'attribute' && t.key === 'start_time')) order.push(sql`r.start_time DESC NULLS LAST`);
  if (!terms.some((t) => t.entity === 'attribute' && t.key === 'run_id')) order.push(sql`r.run_id ASC`);

  const ordered = sql.join(order, sql`, `);
  const page = sql`ORDER BY ${ordered} LIMIT ${input.limit} OFFSET ${input.offset}`;
  // Both forms below keep the alias r, so that the filter's conditions and the order apply as written.
  if (input.walkCap !== undefined) {
    if (!Number.isSafeInteger(input.walkCap) || input.walkCap < 0) throw new Error(`Invalid walk cap ${input.walkCap}`);
    // The columns a filter may name (RUN_COLUMNS), no more: fewer to carry through the subquery.
    const columns = sql.raw(WALKED_COLUMNS);
    const walked = sql`(SELECT ${columns} FROM runs r WHERE ${sql.join(where.slice(0, scoped), sql` AND `)} ORDER BY ${ordered} LIMIT ${input.walkCap}) r`;
    const filter = where.length > scoped ? sql.join(where.slice(scoped), sql` AND `) : sql`TRUE`;
    return sql`SELECT r.run_id FROM ${walked} WHERE ${filter} ${page}`;
  }
  if (input.sorted) return sql`SELECT r.run_id FROM (SELECT r.run_id, r.start_time FROM runs r WHERE ${sql.join(where, sql` AND `)} OFFSET 0) r ${page}`;
  return sql`SELECT r.run_id FROM runs r${sql.join(joins, sql``)} WHERE ${sql.join(where, sql` AND `)} ${page}`;
}

/**
 * How one param/tag filter is rendered once its number of matching rows is known (searchRunIds counts
 * them first through the (key, value) index). Postgres estimates `key = 'seed' AND value = '5'` from
 * the two columns apart and cannot know where the matches lie in the run order, so as a plain EXISTS
 * it may walk every run looking for a page (100k runs: 0.5 s for one match of `seed = '5'`, 0.8 s
 * for `seed LIKE '1%'`, whose 11k matches are the oldest runs). Instead:
 * - 'ids': the few matching run ids themselves, sent as an array: Postgres fetches just those runs.
 * - 'hashed': the matches as an uncorrelated IN kept out of the join search (the `OR FALSE`), which
 *   Postgres runs once into a hash table and probes per run: bounded by one pass over the matches
 *   and one over the runs whatever the estimates.
 * - 'probed': a filter most runs match, as a fenced EXISTS: probed run by run while the order's index
 *   is walked, which stops at the page after a few runs more than it holds.
 * Many matches (an unselective filter) keep the EXISTS, whose walk stops at the first page.
 */
export type Narrowing = { index: number; form: 'ids'; runIds: readonly string[] } | { index: number; form: 'hashed' | 'probed' };

function narrowedCondition(c: Comparison, narrow: Narrowing): SQL {
  if (narrow.form === 'ids') return sql`r.run_id = ANY(${textArray(narrow.runIds)}::text[])`;
  // A filter most runs match (chooseNarrowing's DENSE): probed per run walked, never joined.
  if (narrow.form === 'probed') return runCondition(c, true);
  return sql`(r.run_id IN (${keyedMatches(c)}) OR FALSE)`;
}

/**
 * The filters that can be narrowed, params and tags first: = or LIKE on a param or tag value, which
 * the (key, value) index serves, then any dataset filter (a run matches when one of its inputs does;
 * a walk in run order probes every run's inputs: `datasets.name = 'ds-1'`, one run in 50, read 10k
 * runs' inputs for a page of 100k runs).
 */
export function narrowable(filter: string | undefined): { index: number; comparison: Comparison }[] {
  const keyed: { index: number; comparison: Comparison }[] = [];
  const datasets: { index: number; comparison: Comparison }[] = [];
  parseFilter(filter, RUN_SEARCH_DIALECT).forEach((c, index) => {
    if ((c.entity === 'param' || c.entity === 'tag') && (c.op === '=' || c.op === 'LIKE') && c.operand.kind === 'string') keyed.push({ index, comparison: c });
    if (c.entity === 'dataset') datasets.push({ index, comparison: c });
  });
  return [...keyed, ...datasets];
}

/**
 * The next value after `after` in an order's direction (the first with none), as `v`, of:
 * - a param or tag, in code-point order, from the (key, value COLLATE "C") index, across experiments;
 * - a metric, numbers only (NaN ranks after them, with the runs without it), from the (key, value)
 *   index, across experiments;
 * - the status attribute, in code-point order, among the runs of `scope` (runs_experiment_status_idx).
 */
export function adjacentValue(term: OrderTerm, after: string | number | undefined, scope?: Pick<Parameters<typeof runMatchCondition>[0], 'experimentIds' | 'runViewType'>): SQL {
  const pick = sql.raw(term.ascending ? 'min' : 'max');
  const beyond = sql.raw(term.ascending ? '>' : '<');
  if (term.entity === 'attribute') {
    if (term.key !== 'status' || !scope) throw new Error('a grouped attribute order is by status, within a scope');
    const past = after === undefined ? sql`` : sql` AND r.status COLLATE "C" ${beyond} ${String(after)}::text`;
    return sql`SELECT ${pick}(r.status COLLATE "C") AS v FROM runs r WHERE ${runMatchCondition(scope)}${past}`;
  }
  if (term.entity === 'metric') {
    const past = after === undefined ? sql`` : sql` AND k.value ${beyond} ${String(after)}::float8`;
    return sql`SELECT ${pick}(k.value) AS v FROM latest_metrics k WHERE k.key = ${term.key} AND k.value <> 'NaN'::float8${past}`;
  }
  const table = sql.raw(KEYED_TABLES[term.entity as 'param' | 'tag']);
  const past = after === undefined ? sql`` : sql` AND k.value COLLATE "C" ${beyond} ${String(after)}::text`;
  return sql`SELECT ${pick}(k.value COLLATE "C") AS v FROM ${table} k WHERE k.key = ${term.key}${past}`;
}

export function keyedFilterCount(filter: string | undefined): number {
  return parseFilter(filter, RUN_SEARCH_DIALECT).filter((c) => c.entity === 'param' || c.entity === 'tag').length;
}

/**
 * `SELECT run_id` of the param/tag rows (or dataset inputs) that pass one narrowable comparison, in
 * any experiment; or of the latest_metrics rows equal to a number (a group of groupedIds).
 */
export function keyedMatches(c: Comparison): SQL {
  if (c.entity === 'dataset') return datasetInputs(c, sql`SELECT i.run_id`, sql``);
  if (c.entity === 'metric') {
    if (c.op !== '=' || c.operand.kind !== 'number') throw new Error('a metric is matched by equality to a number');
    return sql`SELECT k.run_id FROM latest_metrics k WHERE k.key = ${c.key} AND ${predicate(sql.raw('k.value'), '=', c.operand, 'float8')}`;
  }
  const table = sql.raw(KEYED_TABLES[c.entity as 'param' | 'tag']);
  return sql`SELECT k.run_id FROM ${table} k WHERE k.key = ${c.key} AND ${keyedValueTest(c)}`;
}

// `=`, `!=` and LIKE give the same answer in any deterministic collation; written in "C", the
// collation of the (key, value) indexes, they can use them (LIKE 'prefix%' as a range). ILIKE keeps
// the database's collation, whose case rules it needs.
function keyedValueTest(c: Comparison): SQL {
  const collated = c.op === '=' || c.op === '!=' || c.op === 'LIKE';
  return predicate(sql.raw(collated ? 'k.value COLLATE "C"' : 'k.value'), c.op, c.operand, 'text');
}

// `> -Infinity` holds for every number and for no NaN: the valued tier's bound.
const NUMBER_BOUND: Comparison = { entity: 'metric', key: '', op: '>=', operand: { kind: 'number', value: -Infinity } };

const TIERED_ENTITIES: ReadonlySet<string> = new Set(['metric', 'param', 'tag']);

const isStartTimeAscending = (t: OrderTerm): boolean => t.entity === 'attribute' && t.key === 'start_time' && t.ascending;

/**
 * No order terms, or `start_time DESC` alone (MLflow's UI asks for it): the same order, start_time
 * DESC NULLS LAST then run_id, which runs_experiment_start_idx walks.
 */
const naturalOrder = (terms: readonly OrderTerm[]): boolean =>
  terms.length === 0 || (terms.length === 1 && terms[0].entity === 'attribute' && terms[0].key === 'start_time' && !terms[0].ascending);

/**
 * The runs of one experiment in one lifecycle stage: the searches whose attribute orderings an
 * index of runs (experiment_id, lifecycle_stage, …) can walk.
 */
function indexScoped(scope: { experimentIds: readonly number[]; runViewType: ViewType }): boolean {
  return scope.experimentIds.length === 1 && scope.runViewType !== 'ALL';
}

/**
 * A search in the natural order (naturalOrder), within one experiment and stage, filtered by a
 * run-name pattern (LIKE or ILIKE on attributes.run_name): 'prefix' when one of them starts with a literal
 * (prefixLike: a range of runs_experiment_name_idx serves it), else 'pattern' (only the trigram
 * index on names serves it, where it exists); null for other searches. Postgres walks such a search
 * in start_time order expecting the matches spread over every run; when they are the oldest runs
 * the walk reads nearly all of them (`run_name LIKE 'run-1%'` at 100k runs: 80,000 runs before the
 * first match) where an index finds them at once. run-name-walk.ts walks a bounded number of runs
 * first and asks the index only when that falls short (probeNameWalk).
 */
export function nameWalkProbed(scope: { experimentIds: readonly number[]; runViewType: ViewType; filter?: string; orderBy?: string[] }): 'prefix' | 'pattern' | null {
  if (!indexScoped(scope) || !naturalOrder(parseOrderBy(scope.orderBy, RUN_SEARCH_DIALECT))) return null;
  const patterns = parseFilter(scope.filter, RUN_SEARCH_DIALECT).filter((c) => c.entity === 'attribute' && c.key === 'run_name' && (c.op === 'LIKE' || c.op === 'ILIKE'));
  if (!patterns.length) return null;
  return patterns.some(prefixLike) ? 'prefix' : 'pattern';
}

/**
 * Ordered by start_time ascending first, within one experiment and stage: walked in two tiers
 * (runSearchQuery's `tier`), the runs with a start_time, then those without, since the index is
 * start_time DESC NULLS LAST and its backward walk puts the nulls first (100k runs: ~25 ms sorted,
 * ~1.5 ms walked).
 */
export function startTimeAscending(scope: { experimentIds: readonly number[]; runViewType: ViewType; orderBy?: string[] }): boolean {
  const first = parseOrderBy(scope.orderBy, RUN_SEARCH_DIALECT)[0];
  return !!first && isStartTimeAscending(first) && indexScoped(scope);
}

/**
 * The first order term when it is `attributes.status DESC` within one experiment and stage: a few
 * values over every run, which runs_experiment_status_idx orders ASC as it is but DESC only by
 * sorting each status' runs (a backward walk yields its tie-breakers reversed). groupedIds pages it
 * status by status, each walked forwards.
 */
export function statusDescending(scope: { experimentIds: readonly number[]; runViewType: ViewType; orderBy?: string[] }): OrderTerm | null {
  const first = parseOrderBy(scope.orderBy, RUN_SEARCH_DIALECT)[0];
  return first?.entity === 'attribute' && first.key === 'status' && !first.ascending && indexScoped(scope) ? first : null;
}

/**
 * The first order term's key when it is a plain metric (not min/max) that no filter bounds, a param
 * or a tag: the searches that rank missing values (and NaN) last, which Postgres can only sort in
 * full (every match read and sorted, 0.7 s for 25k matches of 100k runs). Split into a valued tier,
 * which can walk the (key, value) index in order and stop at the page (30 ms there), and the rest.
 */
export function tieredOrderKey(filter: string | undefined, orderBy: string[] | undefined, keyedFiltersProbed = false): string | null {
  return tieredOrderTerm(filter, orderBy, keyedFiltersProbed)?.key ?? null;
}

export function tieredOrderTerm(filter: string | undefined, orderBy: string[] | undefined, keyedFiltersProbed = false): OrderTerm | null {
  const first = parseOrderBy(orderBy, RUN_SEARCH_DIALECT)[0];
  if (!first || !TIERED_ENTITIES.has(first.entity) || first.aggregate) return null;
  const comparisons = parseFilter(filter, RUN_SEARCH_DIALECT);
  // Not with a dataset filter, nor with a param or tag filter whose matches were not counted first
  // (searchRunIds' narrowing): Postgres estimates `key = 'seed' AND value = '5'` from the two columns
  // apart ('5' is a common value of another key), expects thousands of matches where there is one,
  // and walks the whole index looking for the page (100k runs: 46 ms became 1.1 s). Counted, a rare
  // filter becomes a list of run ids and a common one keeps a walk short.
  if (comparisons.some((c) => c.entity === 'dataset')) return null;
  if (!keyedFiltersProbed && comparisons.some((c) => c.entity === 'param' || c.entity === 'tag')) return null;
  if (first.entity !== 'metric') return first;
  return boundedMetrics(comparisons).has(first.key) ? null : first;
}

/**
 * The number of (key, value) index rows, up to `cap`, that a walk in this metric, param or tag order
 * reads to pass its first `position` values: ties with the value at that position included, since a
 * walk must read a whole group of equal values to order it by the tie-breakers (start_time, run_id),
 * and for a metric in descending order the NaN rows it skips first. Every run with the same
 * `mlflow.user` is one group: walking it took 1.1 s at 100k runs, sorting 0.2 s.
 */
export function keyedWalkLength(term: OrderTerm, position: number, cap: number): SQL {
  if (!TIERED_ENTITIES.has(term.entity)) throw new Error('a walk needs a metric, param or tag');
  const table = sql.raw(KEYED_TABLES[term.entity as 'metric' | 'param' | 'tag']);
  const metric = term.entity === 'metric';
  const value = (alias: string) => sql.raw(metric ? `${alias}.value` : `${alias}.value COLLATE "C"`);
  const numbers = sql.raw(metric ? ` AND v.value <> 'NaN'::float8` : '');
  const reached = sql`(SELECT ${value('v')} FROM ${table} v WHERE v.key = ${term.key}${numbers} ORDER BY ${value('v')} ${direction(term.ascending)} LIMIT 1 OFFSET ${position})`;
  const within = sql.raw(term.ascending ? '<=' : '>=');
  return sql`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${table} k WHERE k.key = ${term.key} AND ${value('k')} ${within} ${reached} LIMIT ${cap}) m`;
}

// Comparisons that only a present, non-NaN metric value can pass (Postgres ranks NaN above every
// number, so `>`/`>=` get an explicit NaN test where they are rendered). By metric key.
const BOUNDING_OPS: ReadonlySet<Comparator> = new Set(['>', '>=', '<', '<=', '=']);

function boundedMetrics(comparisons: readonly Comparison[]): Map<string, Comparison[]> {
  const out = new Map<string, Comparison[]>();
  for (const c of comparisons) {
    if (c.entity !== 'metric' || !BOUNDING_OPS.has(c.op) || c.operand.kind !== 'number' || !Number.isFinite(c.operand.value)) continue;
    const list = out.get(c.key) ?? [];
    list.push(c);
    out.set(c.key, list);
  }
  return out;
}

// One experiment (the common case) is a plain equality so the (experiment_id, lifecycle_stage,
// start_time DESC, run_id) index can return the natural order without a sort.
function experimentScope(ids: readonly number[]): SQL {
  for (const id of ids) {
    if (!Number.isSafeInteger(id)) throw invalidParam(`Invalid experiment id '${String(id)}'`);
  }
  if (ids.length === 0) return sql`FALSE`;
  if (ids.length === 1) return sql`r.experiment_id = ${String(ids[0])}::bigint`;
  return sql`r.experiment_id = ANY(${numberArray(ids)}::bigint[])`;
}

/**
 * The WHERE of runSearchQuery without its ordering (runs `r` matching the experiments, view type
 * and filter), for callers that count or group the matches: the same rows the search pages through.
 */
export function runMatchCondition(input: { experimentIds: number[]; filter?: string; runViewType: ViewType }): SQL {
  const where: SQL[] = [experimentScope(input.experimentIds)];
  const stage = stageCondition(sql.raw('r.lifecycle_stage'), input.runViewType);
  if (stage) where.push(stage);
  let subqueries = 0;
  for (const c of parseFilter(input.filter, RUN_SEARCH_DIALECT)) {
    where.push(runCondition(c, c.entity !== 'attribute' && ++subqueries > JOINED_FILTERS));
  }
  return sql.join(where, sql` AND `);
}
