import { sql, type SQL } from 'drizzle-orm';
import { invalidParam } from '../../errors.js';
import { parseOrderBy } from './order-by.js';
import { lookup, NUMERIC_OPS, parseFilter, type Comparator, type Comparison, type SearchDialect } from './parse.js';
import { checkPage, direction, JOINED_FILTERS, predicate, stageCondition, type ViewType } from './runs-sql.js';

// search_experiments (SearchExperimentsUtils): attributes name / creation_time / last_update_time and
// experiment tags; any other prefix is a 400.

const NAME_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

export const EXPERIMENT_SEARCH_DIALECT: SearchDialect = {
  subject: 'experiments',
  prefixes: { attribute: 'attribute', attributes: 'attribute', tag: 'tag', tags: 'tag' },
  openEntities: { tag: { type: 'string', ops: ['=', '!=', 'LIKE', 'ILIKE', 'IS NULL', 'IS NOT NULL'] } },
  namedFields: {
    attribute: {
      name: { key: 'name', type: 'string', ops: NAME_OPS },
      creation_time: { key: 'creation_time', type: 'number', ops: NUMERIC_OPS },
      last_update_time: { key: 'last_update_time', type: 'number', ops: NUMERIC_OPS },
    },
  },
  orderBy: {
    openEntities: [],
    attributes: {
      name: 'name',
      experiment_id: 'experiment_id',
      creation_time: 'creation_time',
      last_update_time: 'last_update_time',
    },
  },
};

const EXPERIMENT_COLUMNS: Readonly<Record<string, { sql: string; type: 'text' | 'bigint' }>> = {
  name: { sql: 'e.name', type: 'text' },
  experiment_id: { sql: 'e.experiment_id', type: 'bigint' },
  creation_time: { sql: 'e.creation_time', type: 'bigint' },
  last_update_time: { sql: 'e.last_update_time', type: 'bigint' },
};

/** `fenced`: see JOINED_FILTERS in runs-sql.ts; many tag semi-joins are costly to plan. */
function experimentCondition(c: Comparison, fenced: boolean): SQL {
  if (c.entity === 'tag') {
    const base = sql`SELECT 1 FROM experiment_tags t WHERE t.experiment_id = e.experiment_id AND t.key = ${c.key}`;
    const fence = sql.raw(fenced ? ' OFFSET 0' : '');
    if (c.op === 'IS NULL') return sql`NOT EXISTS (${base}${fence})`;
    if (c.op === 'IS NOT NULL') return sql`EXISTS (${base}${fence})`;
    return sql`EXISTS (${base} AND ${predicate(sql.raw('t.value'), c.op, c.operand, 'text')}${fence})`;
  }
  const column = c.entity === 'attribute' ? lookup(EXPERIMENT_COLUMNS, c.key) : undefined;
  if (!column) throw invalidParam(`Invalid experiment filter key '${c.key}'`);
  return predicate(sql.raw(column.sql), c.op, c.operand, column.type);
}

/**
 * Selects `experiment_id` as text (the decimal id the API returns), in the requested order.
 * Default order creation_time DESC, experiment_id ASC; an explicit order_by without experiment_id
 * gets experiment_id DESC as tie-breaker, as MLflow does.
 */
export function experimentSearchQuery(input: {
  filter?: string;
  viewType: ViewType;
  orderBy?: string[];
  offset: number;
  limit: number;
}): SQL {
  const comparisons = parseFilter(input.filter, EXPERIMENT_SEARCH_DIALECT);
  const given = parseOrderBy(input.orderBy, EXPERIMENT_SEARCH_DIALECT);
  checkPage(input.offset, input.limit);

  const where: SQL[] = [];
  const stage = stageCondition(sql.raw('e.lifecycle_stage'), input.viewType);
  if (stage) where.push(stage);
  let subqueries = 0;
  for (const c of comparisons) where.push(experimentCondition(c, c.entity === 'tag' && ++subqueries > JOINED_FILTERS));

  const terms =
    given.length > 0
      ? given
      : [
          { key: 'creation_time', ascending: false },
          { key: 'experiment_id', ascending: true },
        ];
  const order = terms.map((t) => {
    const column = lookup(EXPERIMENT_COLUMNS, t.key);
    if (!column) throw invalidParam(`Invalid order_by attribute '${t.key}'`);
    const collate = column.type === 'text' ? sql.raw(' COLLATE "C"') : sql.raw('');
    return sql`${sql.raw(column.sql)}${collate} ${direction(t.ascending)}`;
  });
  if (!terms.some((t) => t.key === 'experiment_id')) order.push(sql`e.experiment_id DESC`);

  const whereSql = where.length > 0 ? sql` WHERE ${sql.join(where, sql` AND `)}` : sql``;
  return sql`SELECT e.experiment_id::text AS experiment_id FROM experiments e${whereSql} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${input.limit} OFFSET ${input.offset}`;
}
