import { sql, type SQL } from 'drizzle-orm';
import { invalidParam } from '../../errors.js';
import { parseOrderBy } from './order-by.js';
import { lookup, NUMERIC_OPS, parseFilter, type Comparator, type Comparison, type SearchDialect } from './parse.js';
import { checkPage, direction, predicate } from './runs-sql.js';

// search_traces (SearchTraceUtils): trace attributes (status, timestamps, execution time, name, run
// id, ids), `tags.<key>` and `metadata.<key>`. `trace.` and `attributes.` prefix attributes.

const TEXT_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
const KEY_VALUE_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN', 'IS NULL', 'IS NOT NULL'];

const status = { key: 'state', type: 'string', ops: ['=', '!=', 'IN', 'NOT IN'] } as const;
const timestamp = { key: 'request_time', type: 'number', ops: NUMERIC_OPS } as const;
const executionTime = { key: 'execution_duration', type: 'number', ops: NUMERIC_OPS } as const;

export const TRACE_SEARCH_DIALECT: SearchDialect = {
  subject: 'traces',
  prefixes: {
    attribute: 'attribute', attributes: 'attribute', attr: 'attribute', trace: 'attribute',
    tag: 'tag', tags: 'tag',
    metadata: 'metadata', request_metadata: 'metadata',
  },
  openEntities: { tag: { type: 'string', ops: KEY_VALUE_OPS }, metadata: { type: 'string', ops: KEY_VALUE_OPS } },
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

// Attributes the client keeps in tags or metadata rather than in the row.
const VIRTUAL: Readonly<Record<string, { table: 'trace_tags' | 'trace_metadata'; key: string }>> = {
  name: { table: 'trace_tags', key: 'mlflow.traceName' },
  run_id: { table: 'trace_metadata', key: 'mlflow.sourceRun' },
};

function keyValueCondition(table: 'trace_tags' | 'trace_metadata', key: string, c: Comparison): SQL {
  const base = sql`SELECT 1 FROM ${sql.raw(table)} kv WHERE kv.trace_id = t.trace_id AND kv.key = ${key}`;
  if (c.op === 'IS NULL') return sql`NOT EXISTS (${base})`;
  if (c.op === 'IS NOT NULL') return sql`EXISTS (${base})`;
  return sql`EXISTS (${base} AND ${predicate(sql.raw('kv.value'), c.op, c.operand, 'text')})`;
}

// `prompt = 'name/version'`: the prompt versions linked to the trace (LinkPromptsToTrace).
function promptCondition(c: Comparison): SQL {
  const value = c.operand.kind === 'string' ? c.operand.value : '';
  if (value.split('/').length !== 2) throw invalidParam(`Invalid prompts filter value '${value.slice(0, 200)}'. Expected format: prompt = "name/version"`);
  return sql`EXISTS (SELECT 1 FROM trace_prompt_links p WHERE p.trace_id = t.trace_id AND p.prompt = ${value})`;
}

function traceCondition(c: Comparison): SQL {
  if (c.entity === 'attribute' && c.key === 'prompt') return promptCondition(c);
  if (c.entity === 'tag') return keyValueCondition('trace_tags', c.key, c);
  if (c.entity === 'metadata') return keyValueCondition('trace_metadata', c.key, c);
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
  if (key === 'name') return sql`(SELECT kv.value FROM trace_tags kv WHERE kv.trace_id = t.trace_id AND kv.key = 'mlflow.traceName')`;
  const column = lookup(COLUMNS, key);
  if (!column) throw invalidParam(`Invalid order_by key '${key}' for traces`);
  return sql.raw(column.sql);
}

const inExperiments = (ids: number[]) => sql`t.experiment_id = ANY(${`{${ids.join(',')}}`}::bigint[])`;
/** A filter as one SQL condition on `traces t` (TRUE when it is empty). */
const filterCondition = (filter: string | undefined) => {
  const conditions = parseFilter(filter, TRACE_SEARCH_DIALECT).map(traceCondition);
  return conditions.length ? sql`(${sql.join(conditions, sql` AND `)})` : sql`TRUE`;
};

/**
 * The four counts of CalculateTraceFilterCorrelation in one pass: the traces of the experiments
 * matching the base filter (all of them without one), and among those the ones matching each filter
 * and both.
 */
export function traceCorrelationQuery(input: { experimentIds: number[]; filter1: string; filter2: string; baseFilter?: string }): SQL {
  const [f1, f2, base] = [filterCondition(input.filter1), filterCondition(input.filter2), filterCondition(input.baseFilter)];
  return sql`SELECT count(*) AS total, count(*) FILTER (WHERE m.f1) AS f1, count(*) FILTER (WHERE m.f2) AS f2,
      count(*) FILTER (WHERE m.f1 AND m.f2) AS joint
    FROM (SELECT ${f1} AS f1, ${f2} AS f2 FROM traces t WHERE ${inExperiments(input.experimentIds)} AND ${base}) m`;
}

/** The trace rows (with artifact_location) matching a search, in order: by default newest first. */
export function traceSearchQuery(input: { experimentIds: number[]; filter?: string; orderBy?: string[]; offset: number; limit: number }): SQL {
  checkPage(input.offset, input.limit);
  const conditions = parseFilter(input.filter, TRACE_SEARCH_DIALECT).map(traceCondition);
  const terms = parseOrderBy(input.orderBy, TRACE_SEARCH_DIALECT);
  const order = terms.map((o) => sql`${orderColumn(o.key)} ${direction(o.ascending)} NULLS LAST`);
  if (!terms.some((o) => o.key === 'request_time')) order.push(sql`t.request_time DESC`);
  order.push(sql`t.trace_id ASC`);
  const where = [inExperiments(input.experimentIds), ...conditions];
  return sql`SELECT t.trace_id, t.experiment_id, t.client_request_id, t.request_time, t.execution_duration, t.state,
      t.request_preview, t.response_preview, t.artifact_location
    FROM traces t WHERE ${sql.join(where, sql` AND `)}
    ORDER BY ${sql.join(order, sql`, `)} LIMIT ${input.limit} OFFSET ${input.offset}`;
}
