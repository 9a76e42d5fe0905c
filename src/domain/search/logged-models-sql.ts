import { sql, type SQL } from 'drizzle-orm';
import { invalidParam } from '../../errors.js';
import { numberArray } from '../../lib/pg-array.js';
import { lookup, NUMERIC_OPS, parseFilter, type Comparator, type Comparison, type Operand, type SearchDialect } from './parse.js';
import { checkPage, direction, predicate } from './runs-sql.js';

// search_logged_models (mlflow/utils/search_logged_model_utils.py + SqlAlchemyStore): AND-ed
// comparisons on attributes, params, tags and metrics. A model's metric value is the latest of the
// metric points logged with its model_id (by step, timestamp, value), optionally only those on the
// requested datasets. order_by is a list of objects, not strings.

const SET_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
const str = (key: string, ops = SET_OPS) => ({ key, type: 'string' as const, ops });
const num = (key: string) => ({ key, type: 'number' as const, ops: NUMERIC_OPS });

export const LOGGED_MODEL_SEARCH_DIALECT: SearchDialect = {
  subject: 'logged models',
  prefixes: {
    attribute: 'attribute',
    attributes: 'attribute',
    metric: 'metric',
    metrics: 'metric',
    param: 'param',
    params: 'param',
    tag: 'tag',
    tags: 'tag',
  },
  openEntities: {
    metric: { type: 'number', ops: NUMERIC_OPS },
    param: { type: 'string', ops: SET_OPS },
    tag: { type: 'string', ops: SET_OPS },
  },
  namedFields: {
    attribute: {
      name: str('name'),
      model_id: str('model_id'),
      model_type: str('model_type'),
      source_run_id: str('source_run_id'),
      status: str('status', ['=', '!=', 'IN', 'NOT IN']),
      creation_timestamp: num('creation_timestamp'),
      creation_time: num('creation_timestamp'),
      creation_timestamp_ms: num('creation_timestamp'),
      last_updated_timestamp: num('last_updated_timestamp'),
      last_updated_time: num('last_updated_timestamp'),
      last_updated_timestamp_ms: num('last_updated_timestamp'),
    },
  },
  // Order terms are objects and parsed below, not with order-by.ts.
  orderBy: { openEntities: [], attributes: {} },
};

type Column = { sql: string; type: 'text' | 'bigint' };

const COLUMNS: Readonly<Record<string, Column>> = {
  name: { sql: 'lm.name', type: 'text' },
  model_id: { sql: 'lm.model_id', type: 'text' },
  model_type: { sql: 'lm.model_type', type: 'text' },
  source_run_id: { sql: 'lm.source_run_id', type: 'text' },
  status: { sql: 'lm.status', type: 'text' },
  experiment_id: { sql: 'lm.experiment_id', type: 'bigint' },
  creation_timestamp: { sql: 'lm.creation_timestamp_ms', type: 'bigint' },
  last_updated_timestamp: { sql: 'lm.last_updated_timestamp_ms', type: 'bigint' },
};

/** order_by attribute spellings (SqlLoggedModel.ALIASES plus the column names). */
const ORDER_ATTRIBUTES: Readonly<Record<string, string>> = {
  name: 'name',
  model_id: 'model_id',
  model_type: 'model_type',
  source_run_id: 'source_run_id',
  status: 'status',
  experiment_id: 'experiment_id',
  creation_timestamp: 'creation_timestamp',
  creation_time: 'creation_timestamp',
  creation_timestamp_ms: 'creation_timestamp',
  last_updated_timestamp: 'last_updated_timestamp',
  last_updated_time: 'last_updated_timestamp',
  last_updated_timestamp_ms: 'last_updated_timestamp',
};

/** Stored status (LoggedModelStatus) from either spelling the client may filter with. */
const STATUS_VALUES: Readonly<Record<string, string>> = {
  UNSPECIFIED: 'UNSPECIFIED',
  PENDING: 'PENDING',
  READY: 'READY',
  FAILED: 'FAILED',
  LOGGED_MODEL_STATUS_UNSPECIFIED: 'UNSPECIFIED',
  LOGGED_MODEL_PENDING: 'PENDING',
  LOGGED_MODEL_READY: 'READY',
  LOGGED_MODEL_UPLOAD_FAILED: 'FAILED',
};

function statusOperand(operand: Operand): Operand {
  const map = (v: string) => {
    const s = lookup(STATUS_VALUES, v);
    if (!s) throw invalidParam(`Unknown model status in filter: '${v.slice(0, 100)}'`);
    return s;
  };
  if (operand.kind === 'string') return { kind: 'string', value: map(operand.value) };
  if (operand.kind === 'list') return { kind: 'list', values: operand.values.map(map) };
  return operand;
}

export interface DatasetFilter {
  dataset_name: string;
  dataset_digest?: string;
}

export interface LoggedModelOrderBy {
  field_name: string;
  ascending?: boolean;
  dataset_name?: string;
  dataset_digest?: string;
}

// Each term is a correlated subquery; far above any real request.
const MAX_ORDER_TERMS = 20;
const MAX_DATASETS = 100;

/** `m` is a metrics row: does it belong to one of the datasets? */
function datasetsCondition(datasets: readonly DatasetFilter[]): SQL | null {
  if (!datasets.length) return null;
  const any = datasets.map((d) =>
    d.dataset_digest ? sql`(m.dataset_name = ${d.dataset_name} AND m.dataset_digest = ${d.dataset_digest})` : sql`m.dataset_name = ${d.dataset_name}`,
  );
  return sql`(${sql.join(any, sql` OR `)})`;
}

/** The model's latest value of a metric, among the points matching `extra` (datasets). */
function latestMetric(key: string, extra: SQL[]): SQL {
  const conds = [sql`m.model_id = lm.model_id`, sql`m.key = ${key}`, ...extra];
  return sql`(SELECT m.value FROM metrics m WHERE ${sql.join(conds, sql` AND `)} ORDER BY m.step DESC, m.timestamp DESC, m.value DESC LIMIT 1)`;
}

function condition(c: Comparison, datasets: SQL | null): SQL {
  switch (c.entity) {
    case 'attribute': {
      const column = lookup(COLUMNS, c.key);
      if (!column) throw invalidParam(`Invalid attribute key '${c.key}'`);
      const operand = c.key === 'status' ? statusOperand(c.operand) : c.operand;
      return predicate(sql.raw(column.sql), c.op, operand, column.type);
    }
    case 'param':
    case 'tag': {
      const table = sql.raw(c.entity === 'param' ? 'logged_model_params' : 'logged_model_tags');
      return sql`EXISTS (SELECT 1 FROM ${table} k WHERE k.model_id = lm.model_id AND k.key = ${c.key} AND ${predicate(sql.raw('k.value'), c.op, c.operand, 'text')})`;
    }
    case 'metric': {
      let test = predicate(sql.raw('x.v'), c.op, c.operand, 'float8');
      // NaN never satisfies a comparison in MLflow; Postgres would order it above every number.
      if (c.op === '>' || c.op === '>=') test = sql`${test} AND x.v <> 'NaN'::float8`;
      return sql`EXISTS (SELECT 1 FROM (SELECT ${latestMetric(c.key, datasets ? [datasets] : [])} AS v) x WHERE ${test})`;
    }
    default:
      throw invalidParam(`${c.entity} filters are not supported when searching logged models`);
  }
}

export function loggedModelSearchQuery(input: {
  experimentIds: number[];
  filter?: string;
  datasets?: DatasetFilter[];
  orderBy?: LoggedModelOrderBy[];
  offset: number;
  limit: number;
}): SQL {
  const comparisons = parseFilter(input.filter, LOGGED_MODEL_SEARCH_DIALECT);
  checkPage(input.offset, input.limit);
  const datasets = input.datasets ?? [];
  if (datasets.length > MAX_DATASETS) throw invalidParam(`datasets has more than ${MAX_DATASETS} entries`);
  if (datasets.some((d) => !d.dataset_name)) throw invalidParam('`dataset_name` in the `datasets` clause must be specified.');
  const orderBy = input.orderBy ?? [];
  if (orderBy.length > MAX_ORDER_TERMS) throw invalidParam(`order_by has more than ${MAX_ORDER_TERMS} clauses`);
  for (const id of input.experimentIds) {
    if (!Number.isSafeInteger(id)) throw invalidParam(`Invalid experiment id '${String(id)}'`);
  }
  if (!input.experimentIds.length) return sql`SELECT lm.model_id FROM logged_models lm WHERE FALSE`;

  const datasetsSql = datasetsCondition(datasets);
  const where: SQL[] = [sql`lm.lifecycle_stage <> 'deleted'`, sql`lm.experiment_id = ANY(${numberArray(input.experimentIds)}::bigint[])`];
  for (const c of comparisons) where.push(condition(c, datasetsSql));
  // Datasets without a metric comparison: the model must have some metric on one of them.
  if (datasetsSql && !comparisons.some((c) => c.entity === 'metric')) {
    where.push(sql`EXISTS (SELECT 1 FROM metrics m WHERE m.model_id = lm.model_id AND ${datasetsSql})`);
  }

  const order: SQL[] = [];
  let byCreation = false;
  let byModelId = false;
  for (const ob of orderBy) {
    const field = ob.field_name;
    if (typeof field !== 'string' || field === '') throw invalidParam('order_by field_name must be a non-empty string');
    const dir = direction(ob.ascending ?? true);
    const dot = field.indexOf('.');
    if (dot < 0) {
      const key = lookup(ORDER_ATTRIBUTES, field);
      if (!key) throw invalidParam(`Invalid order by field name: ${field.slice(0, 100)}`);
      byCreation ||= key === 'creation_timestamp';
      byModelId ||= key === 'model_id';
      const column = COLUMNS[key];
      const collate = column.type === 'text' ? sql.raw(' COLLATE "C"') : sql.raw('');
      order.push(sql`${sql.raw(column.sql)}${collate} ${dir} NULLS LAST`);
      continue;
    }
    const entity = field.slice(0, dot);
    const key = field.slice(dot + 1).replace(/^`(.*)`$/, '$1');
    if (entity !== 'metrics' && entity !== 'metric') {
      throw invalidParam(`Invalid order by field name: ${field.slice(0, 100)}. Only metrics are supported.`);
    }
    const extra = datasetsSql ? [datasetsSql] : [];
    if (ob.dataset_name) extra.push(sql`m.dataset_name = ${ob.dataset_name}`);
    if (ob.dataset_digest) extra.push(sql`m.dataset_digest = ${ob.dataset_digest}`);
    const value = latestMetric(key, extra);
    order.push(sql`${value} ${dir} NULLS LAST`);
  }
  if (!byCreation) order.push(sql`lm.creation_timestamp_ms DESC`);
  if (!byModelId) order.push(sql`lm.model_id ASC`);
  return sql`SELECT lm.model_id FROM logged_models lm WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${input.limit} OFFSET ${input.offset}`;
}
