import { sql, type SQL } from 'drizzle-orm';
import { invalidParam } from '../../errors.js';
import { parseOrderBy } from './order-by.js';
import { lookup, NUMERIC_OPS, parseFilter, type Comparator, type Comparison, type SearchDialect } from './parse.js';
import { checkPage, direction, predicate } from './runs-sql.js';

// search_datasets (SearchEvaluationDatasetsUtils): attributes name / created_time / last_update_time /
// created_by / last_updated_by and dataset tags; order_by name / created_time / last_update_time.

const TEXT_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];

export const DATASET_SEARCH_DIALECT: SearchDialect = {
  subject: 'evaluation datasets',
  prefixes: { tags: 'tag' },
  openEntities: { tag: { type: 'string', ops: TEXT_OPS } },
  namedFields: {
    attribute: {
      name: { key: 'name', type: 'string', ops: [...TEXT_OPS, 'IN'] },
      created_by: { key: 'created_by', type: 'string', ops: TEXT_OPS },
      last_updated_by: { key: 'last_updated_by', type: 'string', ops: TEXT_OPS },
      created_time: { key: 'created_time', type: 'number', ops: NUMERIC_OPS },
      last_update_time: { key: 'last_update_time', type: 'number', ops: NUMERIC_OPS },
    },
  },
  orderBy: { openEntities: [], attributes: { name: 'name', created_time: 'created_time', last_update_time: 'last_update_time' } },
};

const COLUMNS: Readonly<Record<string, { sql: string; type: 'text' | 'bigint' }>> = {
  name: { sql: 'd.name', type: 'text' },
  created_by: { sql: 'd.created_by', type: 'text' },
  last_updated_by: { sql: 'd.last_updated_by', type: 'text' },
  created_time: { sql: 'd.created_time', type: 'bigint' },
  last_update_time: { sql: 'd.last_update_time', type: 'bigint' },
};

function condition(c: Comparison): SQL {
  if (c.entity === 'tag') {
    return sql`EXISTS (SELECT 1 FROM evaluation_dataset_tags t WHERE t.dataset_id = d.dataset_id AND t.key = ${c.key} AND ${predicate(sql.raw('t.value'), c.op, c.operand, 'text')})`;
  }
  const column = lookup(COLUMNS, c.key);
  if (!column) throw invalidParam(`Invalid attribute key '${c.key}' specified.`);
  return predicate(sql.raw(column.sql), c.op, c.operand, column.type);
}

/** Selects `dataset_id` in the requested order (default newest first; dataset_id DESC breaks ties, as MLflow). */
export function datasetSearchQuery(input: { experimentIds: number[]; filter?: string; orderBy?: string[]; offset: number; limit: number }): SQL {
  const comparisons = parseFilter(input.filter, DATASET_SEARCH_DIALECT);
  const given = parseOrderBy(input.orderBy, DATASET_SEARCH_DIALECT);
  checkPage(input.offset, input.limit);
  const where = comparisons.map(condition);
  if (input.experimentIds.length) {
    const ids = sql.join(input.experimentIds.map((e) => sql`${e}`), sql`, `);
    where.push(sql`EXISTS (SELECT 1 FROM evaluation_dataset_experiments x WHERE x.dataset_id = d.dataset_id AND x.experiment_id IN (${ids}))`);
  }
  const terms = given.length ? given : [{ key: 'created_time', ascending: false }];
  const order = terms.map((t) => {
    const column = lookup(COLUMNS, t.key)!;
    const collate = sql.raw(column.type === 'text' ? ' COLLATE "C"' : '');
    return sql`${sql.raw(column.sql)}${collate} ${direction(t.ascending)}`;
  });
  order.push(sql`d.dataset_id DESC`);
  const whereSql = where.length ? sql` WHERE ${sql.join(where, sql` AND `)}` : sql``;
  return sql`SELECT d.dataset_id FROM evaluation_datasets d${whereSql} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${input.limit} OFFSET ${input.offset}`;
}
