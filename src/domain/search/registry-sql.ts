import { sql, type SQL } from 'drizzle-orm';
import { invalidParam } from '../../errors.js';
import { IS_PROMPT_TAG } from '../registry/validation.js';
import { parseOrderBy, type OrderTerm } from './order-by.js';
import { lookup, NUMERIC_OPS, parseFilter, type Comparator, type Comparison, type SearchDialect } from './parse.js';
import { checkPage, direction, predicate } from './runs-sql.js';

// search_registered_models and search_model_versions (SearchModelUtils / SearchModelVersionUtils):
// AND-ed attribute and tag comparisons, no IS NULL. Prompts live in the same tables, marked by the tag
// mlflow.prompt.is_prompt = 'true'; unless a filter asks for prompts, they are left out, and a
// comparison on that tag then means "not a prompt" (so models without the tag match `!= 'true'`).

const TAG_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
const SET_OPS: readonly Comparator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

const PREFIXES = { attribute: 'attribute', attributes: 'attribute', tag: 'tag', tags: 'tag' } as const;

export const REGISTERED_MODEL_SEARCH_DIALECT: SearchDialect = {
  subject: 'registered models',
  prefixes: PREFIXES,
  openEntities: { tag: { type: 'string', ops: TAG_OPS } },
  namedFields: { attribute: { name: { key: 'name', type: 'string', ops: SET_OPS } } },
  orderBy: {
    openEntities: [],
    attributes: {
      name: 'name',
      timestamp: 'last_updated_timestamp',
      last_updated_timestamp: 'last_updated_timestamp',
      creation_timestamp: 'creation_timestamp',
    },
  },
};

export const MODEL_VERSION_SEARCH_DIALECT: SearchDialect = {
  subject: 'model versions',
  prefixes: PREFIXES,
  openEntities: { tag: { type: 'string', ops: TAG_OPS } },
  namedFields: {
    attribute: {
      name: { key: 'name', type: 'string', ops: SET_OPS },
      run_id: { key: 'run_id', type: 'string', ops: SET_OPS },
      source_path: { key: 'source_path', type: 'string', ops: TAG_OPS },
      version_number: { key: 'version_number', type: 'number', ops: NUMERIC_OPS, quotedIntegers: true },
    },
  },
  orderBy: {
    openEntities: [],
    attributes: {
      name: 'name',
      version_number: 'version_number',
      creation_timestamp: 'creation_timestamp',
      last_updated_timestamp: 'last_updated_timestamp',
    },
  },
};

type Column = { sql: string; type: 'text' | 'bigint' };

const MODEL_COLUMNS: Readonly<Record<string, Column>> = {
  name: { sql: 'rm.name', type: 'text' },
  creation_timestamp: { sql: 'rm.creation_time', type: 'bigint' },
  last_updated_timestamp: { sql: 'rm.last_updated_time', type: 'bigint' },
};

const VERSION_COLUMNS: Readonly<Record<string, Column>> = {
  name: { sql: 'rm.name', type: 'text' },
  run_id: { sql: 'mv.run_id', type: 'text' },
  source_path: { sql: 'mv.source', type: 'text' },
  version_number: { sql: 'mv.version', type: 'bigint' },
  creation_timestamp: { sql: 'mv.creation_time', type: 'bigint' },
  last_updated_timestamp: { sql: 'mv.last_updated_time', type: 'bigint' },
};

/**
 * MLflow's rule (SqlAlchemyStore._is_querying_prompt): the first comparison on the prompt tag decides;
 * `= 'true'` or `!= 'false'` searches prompts, anything else (or no such comparison) searches models.
 */
export function splitPromptClause(comparisons: readonly Comparison[]): { prompts: boolean; rest: readonly Comparison[] } {
  const first = comparisons.find((c) => c.entity === 'tag' && c.key === IS_PROMPT_TAG);
  const value = first?.operand.kind === 'string' ? first.operand.value.toLowerCase() : undefined;
  const prompts = !!first && ((first.op === '=' && value === 'true') || (first.op === '!=' && value === 'false'));
  return { prompts, rest: prompts ? comparisons : comparisons.filter((c) => !(c.entity === 'tag' && c.key === IS_PROMPT_TAG)) };
}

function columnCondition(columns: Readonly<Record<string, Column>>, c: Comparison): SQL {
  const column = lookup(columns, c.key);
  if (!column) throw invalidParam(`Invalid attribute key '${c.key}'`);
  return predicate(sql.raw(column.sql), c.op, c.operand, column.type);
}

function orderClauses(terms: OrderTerm[], columns: Readonly<Record<string, Column>>): SQL[] {
  return terms.map((t) => {
    const column = lookup(columns, t.key);
    if (!column) throw invalidParam(`Invalid order_by attribute '${t.key}'`);
    // Code-point order, so PGlite and any Postgres server agree whatever their locale.
    const collate = column.type === 'text' ? sql.raw(' COLLATE "C"') : sql.raw('');
    return sql`${sql.raw(column.sql)}${collate} ${direction(t.ascending)}`;
  });
}

const NOT_A_PROMPT_MODEL = sql`NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.registered_model_id = rm.id AND p.key = ${IS_PROMPT_TAG} AND p.value = 'true')`;

/** Selects registered model ids in the requested order (default and tie-breaker: name ASC). */
export function registeredModelSearchQuery(input: { filter?: string; orderBy?: string[]; offset: number; limit: number }): SQL {
  const { prompts, rest } = splitPromptClause(parseFilter(input.filter, REGISTERED_MODEL_SEARCH_DIALECT));
  const terms = parseOrderBy(input.orderBy, REGISTERED_MODEL_SEARCH_DIALECT);
  checkPage(input.offset, input.limit);
  const where: SQL[] = prompts ? [] : [NOT_A_PROMPT_MODEL];
  for (const c of rest) {
    if (c.entity === 'tag') {
      where.push(
        sql`EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.registered_model_id = rm.id AND t.key = ${c.key} AND ${predicate(sql.raw('t.value'), c.op, c.operand, 'text')})`,
      );
    } else where.push(columnCondition(MODEL_COLUMNS, c));
  }
  const order = orderClauses(terms, MODEL_COLUMNS);
  if (!terms.some((t) => t.key === 'name')) order.push(sql`rm.name COLLATE "C" ASC`);
  const whereSql = where.length ? sql` WHERE ${sql.join(where, sql` AND `)}` : sql``;
  return sql`SELECT rm.id FROM registered_models rm${whereSql} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${input.limit} OFFSET ${input.offset}`;
}

/**
 * Selects (registered_model_id, version) of live versions in the requested order; default
 * last_updated_timestamp DESC, name ASC, version_number DESC, the last two also as tie-breakers.
 */
export function modelVersionSearchQuery(input: { filter?: string; orderBy?: string[]; offset: number; limit: number }): SQL {
  const { prompts, rest } = splitPromptClause(parseFilter(input.filter, MODEL_VERSION_SEARCH_DIALECT));
  const given = parseOrderBy(input.orderBy, MODEL_VERSION_SEARCH_DIALECT);
  checkPage(input.offset, input.limit);
  const where: SQL[] = [sql`NOT mv.deleted`];
  if (!prompts) {
    // As MLflow: a model any of whose versions is tagged as a prompt is a prompt, as is one whose own tag says so.
    where.push(NOT_A_PROMPT_MODEL);
    where.push(
      sql`NOT EXISTS (SELECT 1 FROM model_version_tags p WHERE p.registered_model_id = mv.registered_model_id AND p.key = ${IS_PROMPT_TAG} AND p.value = 'true')`,
    );
  }
  for (const c of rest) {
    if (c.entity === 'tag') {
      where.push(
        sql`EXISTS (SELECT 1 FROM model_version_tags t WHERE t.registered_model_id = mv.registered_model_id AND t.version = mv.version AND t.key = ${c.key} AND ${predicate(sql.raw('t.value'), c.op, c.operand, 'text')})`,
      );
    } else where.push(columnCondition(VERSION_COLUMNS, c));
  }
  const terms: OrderTerm[] = given.length
    ? given
    : [
        { entity: 'attribute', key: 'last_updated_timestamp', ascending: false },
        { entity: 'attribute', key: 'name', ascending: true },
        { entity: 'attribute', key: 'version_number', ascending: false },
      ];
  const order = orderClauses(terms, VERSION_COLUMNS);
  if (!terms.some((t) => t.key === 'name')) order.push(sql`rm.name COLLATE "C" ASC`);
  if (!terms.some((t) => t.key === 'version_number')) order.push(sql`mv.version DESC`);
  return sql`SELECT mv.registered_model_id, mv.version FROM model_versions mv JOIN registered_models rm ON rm.id = mv.registered_model_id WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(order, sql`, `)} LIMIT ${input.limit} OFFSET ${input.offset}`;
}
