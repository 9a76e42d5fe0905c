import { sql, type SQL } from 'drizzle-orm';
import { invalidParam } from '../../errors.js';
import { parseOrderBy } from './order-by.js';
import { lookup, NUMERIC_OPS, parseFilter, type Comparator, type Comparison, type FieldRule, type SearchDialect } from './parse.js';
import { INDEXED_METADATA_KEYS } from '../../db/schema/traces.js';
import { ASSESSMENT_VALID, ASSESSMENT_VALUE_TEXT } from '../traces/assessment-sql.js';
import { SPANS_LOCATION_TAG, TRACE_NAME_TAG, TRACE_SESSION_METADATA, TRACKING_STORE } from '../traces/wire.js';
import { checkPage, direction, predicate } from './runs-sql.js';
import { clip } from './tokenize.js';

// search_traces (SearchTraceUtils): trace attributes (status, timestamps, execution time, name, run
// id, ids), `tags.<key>`, `metadata.<key>`, `feedback.<name>` / `expectation.<name>` (the trace's
// assessments), and `span.<name|type|status|content|attributes.<key>>` and `trace.text` (its spans'
// rows, trace_spans). `trace.` and `attributes.` prefix attributes.

const TEXT_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
// MLflow's VALID_SPAN_ATTRIBUTE_COMPARATORS, RLIKE aside (no Cairn search takes it).
const SPAN_OPS: readonly Comparator[] = ['=', '!=', 'IN', 'NOT IN', 'LIKE', 'ILIKE'];
const KEY_VALUE_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN', 'IS NULL', 'IS NOT NULL'];
// As MLflow's VALID_ASSESSMENT_COMPARATORS (RLIKE aside, which no Cairn search takes): a quoted value
// for the others, a number for the ordering ones.
const ASSESSMENT: FieldRule = { type: 'string', ops: ['=', '!=', '<', '<=', '>', '>=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'], numberOps: ['<', '<=', '>', '>='] };

const status = { key: 'state', type: 'string', ops: ['=', '!=', 'IN', 'NOT IN'] } as const;
const timestamp = { key: 'request_time', type: 'number', ops: NUMERIC_OPS } as const;
const executionTime = { key: 'execution_duration', type: 'number', ops: NUMERIC_OPS } as const;

export const TRACE_SEARCH_DIALECT: SearchDialect = {
  subject: 'traces',
  prefixes: {
    attribute: 'attribute', attributes: 'attribute', attr: 'attribute', trace: 'attribute',
    tag: 'tag', tags: 'tag',
    metadata: 'metadata', request_metadata: 'metadata',
    feedback: 'feedback', expectation: 'expectation', span: 'span',
  },
  unsupported: {
    issue: 'Cairn does not search traces by issue: it has no issues (MLflow GenAI issue detection)',
  },
  // A span's key (name, type, status, content, attributes.<key>) and its comparators are checked by spanComparison.
  openEntities: { tag: { type: 'string', ops: KEY_VALUE_OPS }, metadata: { type: 'string', ops: KEY_VALUE_OPS }, feedback: ASSESSMENT, expectation: ASSESSMENT, span: { type: 'string', ops: SPAN_OPS } },
  namedFields: {
    attribute: {
      status, state: status,
      timestamp, timestamp_ms: timestamp, request_time: timestamp,
      execution_time: executionTime, execution_time_ms: executionTime, execution_duration: executionTime,
      trace_id: { key: 'trace_id', type: 'string', ops: TEXT_OPS },
      request_id: { key: 'trace_id', type: 'string', ops: TEXT_OPS },
      client_request_id: { key: 'client_request_id', type: 'string', ops: TEXT_OPS },
      name: { key: 'name', type: 'string', ops: TEXT_OPS },
      run_id: { key: 'run_id', type: 'string', ops: ['=', '!=', 'IN', 'NOT IN'] },
      prompt: { key: 'prompt', type: 'string', ops: ['='] },
      // The text of the trace's spans (MLflow's SEARCH_KEY_TO_SPAN): span.content.
      text: { key: 'text', type: 'string', ops: ['LIKE', 'ILIKE'] },
    },
  },
  orderBy: {
    openEntities: [],
    attributes: {
      timestamp: 'request_time', timestamp_ms: 'request_time', request_time: 'request_time',
      execution_time: 'execution_duration', execution_time_ms: 'execution_duration', execution_duration: 'execution_duration',
      status: 'state', state: 'state', trace_id: 'trace_id', request_id: 'trace_id', name: 'name',
    },
  },
};

const COLUMNS: Readonly<Record<string, { sql: string; type: 'text' | 'bigint' }>> = {
  state: { sql: 't.state', type: 'text' },
  request_time: { sql: 't.request_time', type: 'bigint' },
  execution_duration: { sql: 't.execution_duration', type: 'bigint' },
  trace_id: { sql: 't.trace_id', type: 'text' },
  client_request_id: { sql: 't.client_request_id', type: 'text' },
};

// Attributes the client keeps in tags or metadata rather than in the row. (`name` is the
// `mlflow.traceName` tag, whose value the row also holds: nameCondition.)
const VIRTUAL: Readonly<Record<string, { table: 'trace_tags' | 'trace_metadata'; key: string }>> = {
  run_id: { table: 'trace_metadata', key: 'mlflow.sourceRun' },
};

// The value indexes of trace_tags and trace_metadata hold a value's first characters (a whole value
// can pass a btree entry's limit; src/db/schema/traces.ts).
const VALUE_PREFIX = 200;

/**
 * Whether the operand(s) are shorter than the prefix: such a value equals a stored one exactly when
 * their prefixes are equal (a longer stored value has a prefix of 200 characters), so the whole value
 * need not be read.
 */
function isShort(c: Comparison): boolean {
  const short = (v: string) => v.length < VALUE_PREFIX;
  return (c.operand.kind === 'string' && short(c.operand.value)) || (c.operand.kind === 'list' && c.operand.values.every(short));
}

/**
 * `=` and `IN` also compare the value's prefix, which lets Postgres find the matching rows in the
 * (key, left(value, 200)) index and recheck the whole value, instead of reading every row of the key.
 */
function prefixCondition(c: Comparison, valueColumn = 'kv.value'): SQL | undefined {
  const prefix = (v: string) => sql`left(${v}::text, ${sql.raw(String(VALUE_PREFIX))})`;
  const column = sql.raw(`left(${valueColumn}, ${VALUE_PREFIX})`);
  if (c.op === '=' && c.operand.kind === 'string') return sql`${column} = ${prefix(c.operand.value)}`;
  if (c.op === 'IN' && c.operand.kind === 'list' && c.operand.values.length) {
    return sql`${column} IN (${sql.join(c.operand.values.map(prefix), sql`, `)})`;
  }
  return undefined;
}

/**
 * `name …` and `tags.mlflow.traceName …` on the row's copy of that tag (null without one, as a
 * missing tag row), so the (experiment, left(name, 200), request time) index finds a name's traces
 * in page order. `=` and `IN` also compare the prefix that index holds, as keyValueCondition does.
 */
function nameCondition(c: Comparison): SQL {
  if (c.op === 'IS NULL' || c.op === 'IS NOT NULL') return sql.raw(`t.name ${c.op}`);
  const value = predicate(sql.raw('t.name'), c.op, c.operand, 'text');
  const prefix = prefixCondition(c, 't.name');
  if (!prefix) return value;
  return isShort(c) ? prefix : sql`(${prefix} AND ${value})`;
}

/**
 * `=` and `IN` on a user or session metadata key (INDEXED_METADATA_KEYS) as that key's value in the
 * row's metadata text, which the partial indexes of migrations/0037 hold: the same traces as
 * keyValueCondition finds (the text is kept in step with the rows), read in page order. The text must
 * be written exactly as the indexes' expression and predicate are, for Postgres to match them.
 */
function indexedMetadataCondition(key: string, c: Comparison): SQL | undefined {
  if (!(INDEXED_METADATA_KEYS as readonly string[]).includes(key) || (c.op !== '=' && c.op !== 'IN')) return undefined;
  const value = `(t.metadata_json::jsonb ->> '${key}')`;
  const prefix = prefixCondition(c, value);
  if (!prefix) return undefined;
  const holds = sql.raw(`t.metadata_json LIKE '%"${key}":%'`);
  return isShort(c) ? sql`(${holds} AND ${prefix})` : sql`(${holds} AND ${prefix} AND ${predicate(sql.raw(value), c.op, c.operand, 'text')})`;
}

function keyValueCondition(table: 'trace_tags' | 'trace_metadata', key: string, c: Comparison): SQL {
  const base = sql`SELECT 1 FROM ${sql.raw(table)} kv WHERE kv.trace_id = t.trace_id AND kv.key = ${key}`;
  if (c.op === 'IS NULL') return sql`NOT EXISTS (${base})`;
  if (c.op === 'IS NOT NULL') return sql`EXISTS (${base})`;
  const prefix = prefixCondition(c);
  const value = predicate(sql.raw('kv.value'), c.op, c.operand, 'text');
  return sql`EXISTS (${base} AND ${prefix ? (isShort(c) ? prefix : sql`${prefix} AND ${value}`) : value})`;
}

// `prompt = 'name/version'`: the prompt versions linked to the trace (LinkPromptsToTrace).
function promptCondition(c: Comparison): SQL {
  const value = c.operand.kind === 'string' ? c.operand.value : '';
  if (value.split('/').length !== 2) throw invalidParam(`Invalid prompts filter value '${value.slice(0, 200)}'. Expected format: prompt = "name/version"`);
  return sql`EXISTS (SELECT 1 FROM trace_prompt_links p WHERE p.trace_id = t.trace_id AND p.prompt = ${value})`;
}

/**
 * `tags.mlflow.trace.spansLocation …`: the server keeps that tag as the row's `spans_logged`
 * (`TRACKING_STORE` or no tag: src/domain/traces/read.ts), not as a tag row.
 */
function spansLocationCondition(c: Comparison): SQL {
  if (c.op === 'IS NULL') return sql.raw('NOT t.spans_logged');
  if (c.op === 'IS NOT NULL') return sql.raw('t.spans_logged');
  return predicate(sql.raw(`(CASE WHEN t.spans_logged THEN '${TRACKING_STORE}' END)`), c.op, c.operand, 'text');
}

/**
 * `feedback.<name> …` / `expectation.<name> …`, as MLflow's SqlAssessments rows answer it: the trace's
 * valid assessments of that kind and name, their value as JSON text (`=` and `!=` also match a quoted
 * string's text unquoted, LIKE reads the JSON text), a number compared as a number by `<`…`>=`
 * (booleans are not numbers there). IS NULL: no such assessment. An assessment whose metadata names
 * a session (`mlflow.trace.session`) counts for every trace of that session in the searched
 * experiments, as in MLflow.
 */
function assessmentCondition(c: Comparison, experimentIds: number[]): SQL {
  const kind = c.entity === 'feedback' ? 'feedback' : 'expectation';
  const raw = sql.raw(`(a.body -> '${kind}' -> 'value')`);
  // An assessment holds a feedback or an expectation, never both, so the shared text is this kind's.
  const text = ASSESSMENT_VALUE_TEXT;
  const named = sql`(a.body -> ${kind}) IS NOT NULL AND a.body ->> 'assessment_name' = ${c.key} AND ${ASSESSMENT_VALID}`;
  let value = sql`TRUE`;
  if (c.operand.kind === 'number') {
    // In a CASE: Postgres may cast before it tests the type in an AND, and a string does not cast.
    value = sql`(CASE WHEN jsonb_typeof(${raw}) = 'number' THEN ${raw}::numeric END) ${sql.raw(c.op)} ${String(c.operand.value)}::numeric`;
  } else if (c.operand.kind === 'string' && (c.op === '=' || c.op === '!=')) {
    const equal = sql`${text} IN (${c.operand.value}::text, ${JSON.stringify(c.operand.value)}::text)`;
    value = c.op === '=' ? equal : sql`NOT (${equal})`;
  } else if (c.operand.kind === 'string') {
    value = predicate(text, c.op, c.operand, 'text');
  }
  const direct = sql`EXISTS (SELECT 1 FROM assessments a WHERE a.trace_id = t.trace_id AND ${named} AND ${value})`;
  // Driven by the traces holding a session (traces_experiment_session_idx), few or none in most experiments.
  // The LIKE first: most traces hold no session, and reading their metadata as JSON costs more.
  const sessions = sql`(t.metadata_json LIKE '%"${sql.raw(TRACE_SESSION_METADATA)}":%' AND (t.metadata_json::jsonb ->> '${sql.raw(TRACE_SESSION_METADATA)}') IN (
    SELECT s.metadata_json::jsonb ->> '${sql.raw(TRACE_SESSION_METADATA)}' FROM traces s JOIN assessments a ON a.trace_id = s.trace_id
    WHERE ${inExperiments(experimentIds, 's')} AND s.metadata_json LIKE '%"${sql.raw(TRACE_SESSION_METADATA)}":%'
      AND (a.body -> 'metadata' -> '${sql.raw(TRACE_SESSION_METADATA)}') IS NOT NULL AND ${named} AND ${value}))`;
  if (c.op === 'IS NULL') return sql`(NOT ${direct} AND (${sessions}) IS NOT TRUE)`;
  return sql`(${direct} OR ${sessions})`;
}

const SPAN_COLUMNS: Readonly<Record<string, string>> = { name: 's.name', type: 's.type', status: 's.status' };

/**
 * One comparison on a span's row, as MLflow's SqlSpan filters: name, type and status compared as
 * columns, `content` (and `trace.text`) a LIKE on the span's JSON, `attributes.<key>` a LIKE on it
 * for `"<key>"` followed by the pattern (MLflow's `%"<key>"<pattern>%`). MLflow also takes `=`, `!=`
 * and IN on an attribute, comparing the whole JSON with that pattern, which never matches: Cairn
 * refuses them with a message saying to use LIKE.
 */
function spanComparison(c: Comparison): SQL {
  const key = c.entity === 'attribute' ? 'content' : c.key;
  const column = lookup(SPAN_COLUMNS, key);
  if (column) return predicate(sql.raw(column), c.op, c.operand, 'text');
  const likeOnly = (what: string) => {
    if (c.op !== 'LIKE' && c.op !== 'ILIKE') throw invalidParam(`span.${clip(what)} comparator '${c.op}' not one of 'LIKE', 'ILIKE'`);
  };
  if (key === 'content') {
    likeOnly('content');
    return predicate(sql.raw('s.content'), c.op, c.operand, 'text');
  }
  if (key.startsWith('attributes.')) {
    const name = key.slice('attributes.'.length).replace(/^`(.*)`$/, '$1');
    if (!name) throw invalidParam("Span attribute name cannot be empty after 'attributes.'");
    likeOnly(key);
    const pattern = `%"${name}"${c.operand.kind === 'string' ? c.operand.value : ''}%`;
    return predicate(sql.raw('s.content'), c.op, { kind: 'string', value: pattern }, 'text');
  }
  throw invalidParam(`Invalid span attribute '${clip(key)}'. Supported attributes: name, status, type, attributes.<attribute_name>.`);
}

const isSpanComparison = (c: Comparison) => c.entity === 'span' || (c.entity === 'attribute' && c.key === 'text');

/**
 * A filter's comparisons as SQL conditions on `traces t`. Its span comparisons hold together for one
 * span (one EXISTS over the trace's span rows), as MLflow combines them.
 */
function traceConditions(comparisons: readonly Comparison[], experimentIds: number[]): SQL[] {
  const spans = comparisons.filter(isSpanComparison).map(spanComparison);
  const out = comparisons.filter((c) => !isSpanComparison(c)).map((c) => traceCondition(c, experimentIds));
  if (spans.length) out.push(sql`EXISTS (SELECT 1 FROM trace_spans s WHERE s.trace_id = t.trace_id AND ${sql.join(spans, sql` AND `)})`);
  return out;
}

function traceCondition(c: Comparison, experimentIds: number[]): SQL {
  if (c.entity === 'feedback' || c.entity === 'expectation') return assessmentCondition(c, experimentIds);
  if (c.entity === 'attribute' && c.key === 'prompt') return promptCondition(c);
  if ((c.entity === 'tag' && c.key === TRACE_NAME_TAG) || (c.entity === 'attribute' && c.key === 'name')) return nameCondition(c);
  if (c.entity === 'tag' && c.key === SPANS_LOCATION_TAG) return spansLocationCondition(c);
  if (c.entity === 'tag') return keyValueCondition('trace_tags', c.key, c);
  if (c.entity === 'metadata') return indexedMetadataCondition(c.key, c) ?? keyValueCondition('trace_metadata', c.key, c);
  const virtual = lookup(VIRTUAL, c.key);
  // A run's traces are those logged in it and those linked to it afterwards (LinkTracesToRun), as in MLflow.
  if (virtual && c.key === 'run_id' && (c.op === '=' || c.op === 'IN')) {
    const linked = sql`EXISTS (SELECT 1 FROM trace_run_links l WHERE l.trace_id = t.trace_id AND ${predicate(sql.raw('l.run_id'), c.op, c.operand, 'text')})`;
    return sql`(${keyValueCondition(virtual.table, virtual.key, c)} OR ${linked})`;
  }
  if (virtual) return keyValueCondition(virtual.table, virtual.key, c);
  const column = lookup(COLUMNS, c.key);
  if (!column) throw invalidParam(`Invalid trace filter key '${c.key}'`);
  return predicate(sql.raw(column.sql), c.op, c.operand, column.type);
}

function orderColumn(key: string): SQL {
  if (key === 'name') return sql.raw('t.name');
  const column = lookup(COLUMNS, key);
  if (!column) throw invalidParam(`Invalid order_by key '${key}' for traces`);
  return sql.raw(column.sql);
}

// One experiment (the common search) is an equality: with `= ANY(array)` Postgres cannot read an
// (experiment_id, request_time, ...) index in order, so every page sorted the experiment's traces.
const inExperiments = (ids: number[], alias = 't') =>
  ids.length === 1 ? sql`${sql.raw(alias)}.experiment_id = ${String(ids[0])}::bigint` : sql`${sql.raw(alias)}.experiment_id = ANY(${`{${ids.join(',')}}`}::bigint[])`;
/** A filter as one SQL condition on `traces t` (TRUE when it is empty). */
const filterCondition = (filter: string | undefined, experimentIds: number[]) => {
  const conditions = traceConditions(parseFilter(filter, TRACE_SEARCH_DIALECT), experimentIds);
  return conditions.length ? sql`(${sql.join(conditions, sql` AND `)})` : sql`TRUE`;
};

/**
 * The four counts of CalculateTraceFilterCorrelation in one pass: the traces of the experiments
 * matching the base filter (all of them without one), and among those the ones matching each filter
 * and both.
 */
export function traceCorrelationQuery(input: { experimentIds: number[]; filter1: string; filter2: string; baseFilter?: string }): SQL {
  const [f1, f2, base] = [input.filter1, input.filter2, input.baseFilter].map((f) => filterCondition(f, input.experimentIds));
  return sql`SELECT count(*) AS total, count(*) FILTER (WHERE m.f1) AS f1, count(*) FILTER (WHERE m.f2) AS f2,
      count(*) FILTER (WHERE m.f1 AND m.f2) AS joint
    FROM (SELECT ${f1} AS f1, ${f2} AS f2 FROM traces t WHERE ${inExperiments(input.experimentIds)} AND ${base}) m`;
}

/**
 * Whether an order_by is the default order, request_time DESC then trace_id: none, or the same
 * spelled out (the UI asks for `timestamp_ms DESC`). Pages in it can start after a row (keyset).
 */
export function isDefaultTraceOrder(orderBy: readonly string[] | undefined): boolean {
  const terms = parseOrderBy(orderBy, TRACE_SEARCH_DIALECT);
  if (!terms.length) return true;
  const [first, second] = terms;
  if (first.key !== 'request_time' || first.ascending) return false;
  return terms.length === 1 || (terms.length === 2 && second.key === 'trace_id' && second.ascending);
}

/** A trace row as every trace read takes it, from `traces t` (the search's statements and read.ts' lookups by id). */
export const TRACE_COLUMNS = sql.raw(`t.trace_id, t.experiment_id, t.client_request_id, t.request_time, t.execution_duration, t.state,
      t.request_preview, t.response_preview, t.artifact_location, t.tags_json AS tags, t.metadata_json AS metadata, t.spans_logged`);

/**
 * The trace rows (with artifact_location, tags and metadata) matching a search, in order: by default newest first.
 * `after` (default order only, isDefaultTraceOrder) starts the page after that row instead of at an
 * offset.
 */
export function traceSearchQuery(input: {
  experimentIds: number[];
  filter?: string;
  orderBy?: string[];
  offset: number;
  limit: number;
  after?: { requestTime: string; traceId: string };
}): SQL {
  checkPage(input.offset, input.limit);
  const conditions = traceConditions(parseFilter(input.filter, TRACE_SEARCH_DIALECT), input.experimentIds);
  if (input.after) return keysetQuery(input.experimentIds, conditions, input.after, input.limit);
  const where = [inExperiments(input.experimentIds), ...conditions];
  const terms = parseOrderBy(input.orderBy, TRACE_SEARCH_DIALECT);
  // request_time is never null: its NULLS clause is the one its indexes are read with (DESC NULLS
  // LAST forwards, ASC NULLS FIRST backwards), so the order matches them.
  const nulls = (o: { key: string; ascending: boolean }) => sql.raw(o.key === 'request_time' && o.ascending ? 'NULLS FIRST' : 'NULLS LAST');
  const order = terms.map((o) => sql`${orderColumn(o.key)} ${direction(o.ascending)} ${nulls(o)}`);
  if (!terms.some((o) => o.key === 'request_time')) order.push(sql`t.request_time DESC NULLS LAST`);
  order.push(sql`t.trace_id ASC`);
  const orderBy = sql.join(order, sql`, `);
  if (input.offset < DEEP_OFFSET) {
    return sql`SELECT ${TRACE_COLUMNS}
    FROM traces t WHERE ${sql.join(where, sql` AND `)}
    ORDER BY ${orderBy} LIMIT ${input.limit} OFFSET ${input.offset}`;
  }
  // A deep offset skips its rows by their ids alone (an index-only scan where the order's index
  // holds the filter's columns), then reads the page's rows: reading every skipped row whole took
  // twice as long (the page at offset 50,000: docs/bench.md). The order ends with trace_id, so the
  // page sorted again is in the same order.
  return sql`SELECT ${TRACE_COLUMNS} FROM traces t WHERE t.trace_id IN (
      SELECT t.trace_id FROM traces t WHERE ${sql.join(where, sql` AND `)}
      ORDER BY ${orderBy} LIMIT ${input.limit} OFFSET ${input.offset})
    ORDER BY ${orderBy}`;
}

// From this offset on, a page skips rows by id (traceSearchQuery).
const DEEP_OFFSET = 1000;

// Up to this many experiments, a keyset page reads each one's index range (see keysetQuery).
const KEYSET_SPLIT_EXPERIMENTS = 20;

/**
 * The page in the default order after a row: the rest of that row's request_time (by trace_id),
 * then the older traces. Each part is one range of traces_experiment_time_idx that stops at the
 * page's size, where an offset reads every entry before the page (the page at offset 50,000 of 100k
 * traces: docs/bench.md). Two parts rather than one `request_time < t OR (request_time = t AND
 * trace_id > id)`, which the index reads from the first row of that time on: all the traces of a
 * long run of equal times (a v2 trace without a start time has 0) before the key. With several
 * experiments the parts are per experiment (an `= ANY` scan is not in the index's order, so Postgres
 * would sort every older trace of them all), merged by Postgres in order (Merge Append), which reads
 * only as far into each range as the page takes.
 */
function keysetQuery(experimentIds: number[], conditions: SQL[], after: { requestTime: string; traceId: string }, limit: number): SQL {
  const time = sql`${after.requestTime}::bigint`;
  const groups = experimentIds.length <= KEYSET_SPLIT_EXPERIMENTS ? experimentIds.map((id) => [id]) : [experimentIds];
  const parts = groups.flatMap((ids) => {
    const scope = sql.join([inExperiments(ids), ...conditions], sql` AND `);
    return [
      sql`(SELECT ${TRACE_COLUMNS} FROM traces t WHERE ${scope} AND t.request_time = ${time} AND t.trace_id > ${after.traceId}
        ORDER BY t.trace_id ASC LIMIT ${limit})`,
      sql`(SELECT ${TRACE_COLUMNS} FROM traces t WHERE ${scope} AND t.request_time < ${time}
        ORDER BY t.request_time DESC NULLS LAST, t.trace_id ASC LIMIT ${limit})`,
    ];
  });
  return sql`SELECT k.* FROM (${sql.join(parts, sql` UNION ALL `)}) k ORDER BY k.request_time DESC NULLS LAST, k.trace_id ASC LIMIT ${limit}`;
}
