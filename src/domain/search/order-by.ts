import { invalidParam } from '../../errors.js';
import { lookup, resolveEntity, type Entity, type SearchDialect } from './parse.js';
import { clip, isKeyword, tokenize } from './tokenize.js';

// order_by clauses: "<identifier> [ASC|DESC]", identifiers spelled as in filters (quoted keys,
// entity aliases). Direction defaults to ASC and is case-insensitive.

export interface OrderTerm {
  entity: Entity;
  /** Canonical key (attribute aliases such as `created` already translated). */
  key: string;
  ascending: boolean;
}

/** Each term is a join; far above any real request. */
export const MAX_ORDER_TERMS = 20;

export function parseOrderBy(clauses: readonly string[] | null | undefined, dialect: SearchDialect): OrderTerm[] {
  if (clauses != null && !Array.isArray(clauses)) throw invalidParam('Invalid order_by: expected a list of strings');
  if ((clauses?.length ?? 0) > MAX_ORDER_TERMS) throw invalidParam(`order_by has more than ${MAX_ORDER_TERMS} clauses`);
  const terms: OrderTerm[] = [];
  const seen = new Set<string>();
  for (const clause of clauses ?? []) {
    const term = parseOrderClause(clause, dialect);
    // As MLflow: ordering twice by the same field is a client mistake, not a silent no-op.
    const id = `${term.entity}\u0000${term.key}`;
    if (seen.has(id)) throw invalidParam(`order_by contains duplicate fields: ${clip(clauses!.join(', '))}`);
    seen.add(id);
    terms.push(term);
  }
  return terms;
}

function parseOrderClause(clause: string, dialect: SearchDialect): OrderTerm {
  if (typeof clause !== 'string') throw invalidParam('Invalid order_by clause: expected a string');
  const tokens = tokenize(clause);
  const [ident, direction, extra] = tokens;
  if (ident?.type !== 'ident' || extra) {
    throw invalidParam(`Invalid order_by clause '${clip(clause)}'. Could not be parsed.`);
  }
  let ascending = true;
  if (direction) {
    if (isKeyword(direction, 'DESC')) ascending = false;
    else if (!isKeyword(direction, 'ASC')) {
      throw invalidParam(`Invalid ordering key in order_by clause '${clip(clause)}'; use ASC or DESC`);
    }
  }
  const { entity, key } = resolveEntity(ident.segments, dialect);
  if (entity === 'attribute') {
    const canonical = lookup(dialect.orderBy.attributes, key);
    if (!canonical) {
      const valid = [...new Set(Object.values(dialect.orderBy.attributes))].join(', ');
      throw invalidParam(`Invalid order_by attribute '${clip(key)}' for ${dialect.subject}. Valid keys are ${valid}`);
    }
    return { entity, key: canonical, ascending };
  }
  if (!dialect.orderBy.openEntities.includes(entity)) {
    throw invalidParam(`Invalid order_by entity '${entity}' for ${dialect.subject}`);
  }
  return { entity, key, ascending };
}
