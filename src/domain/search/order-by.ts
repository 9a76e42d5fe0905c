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
  /**
   * Cairn's own term, not MLflow's grammar: `min(metrics.loss)` / `max(metrics.loss)` order by the
   * least / greatest value of the metric's whole history. Only where the caller allows it (uiTerms).
   */
  aggregate?: 'min' | 'max';
}

/**
 * With uiTerms, two attributes MLflow's order_by lacks: `duration` (end_time - start_time, unfinished
 * runs last) and `experiment_id` (the runs table of several experiments).
 */
export const UI_ORDER_ATTRIBUTES: readonly string[] = ['duration', 'experiment_id'];

/** Each term is a join; far above any real request. */
export const MAX_ORDER_TERMS = 20;

export function parseOrderBy(
  clauses: readonly string[] | null | undefined,
  dialect: SearchDialect,
  options: { uiTerms?: boolean } = {},
): OrderTerm[] {
  if (clauses != null && !Array.isArray(clauses)) throw invalidParam('Invalid order_by: expected a list of strings');
  if ((clauses?.length ?? 0) > MAX_ORDER_TERMS) throw invalidParam(`order_by has more than ${MAX_ORDER_TERMS} clauses`);
  const terms: OrderTerm[] = [];
  const seen = new Set<string>();
  for (const clause of clauses ?? []) {
    const term = parseOrderClause(clause, dialect, options.uiTerms ?? false);
    // As MLflow: ordering twice by the same field is a client mistake, not a silent no-op.
    const id = `${term.aggregate ?? ''}\u0000${term.entity}\u0000${term.key}`;
    if (seen.has(id)) throw invalidParam(`order_by contains duplicate fields: ${clip(clauses!.join(', '))}`);
    seen.add(id);
    terms.push(term);
  }
  return terms;
}

function parseOrderClause(clause: string, dialect: SearchDialect, uiTerms: boolean): OrderTerm {
  if (typeof clause !== 'string') throw invalidParam('Invalid order_by clause: expected a string');
  let tokens = tokenize(clause);
  let aggregate: OrderTerm['aggregate'];
  // min(<metric>) / max(<metric>): the function name is a one-segment identifier followed by '('.
  const [fn, open, , close] = tokens;
  if (uiTerms && fn?.type === 'ident' && fn.segments.length === 1 && open?.type === 'lparen') {
    const name = fn.segments[0].text.toLowerCase();
    if ((name !== 'min' && name !== 'max') || fn.segments[0].quote || close?.type !== 'rparen') {
      throw invalidParam(`Invalid order_by clause '${clip(clause)}'. Use min(metrics.<key>) or max(metrics.<key>).`);
    }
    aggregate = name;
    tokens = [tokens[2], ...tokens.slice(4)];
  }
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
  if (aggregate && entity !== 'metric') {
    throw invalidParam(`Invalid order_by clause '${clip(clause)}': ${aggregate}() applies to metrics only`);
  }
  if (entity === 'attribute') {
    if (uiTerms && UI_ORDER_ATTRIBUTES.includes(key)) return { entity, key, ascending };
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
  return aggregate ? { entity, key, ascending, aggregate } : { entity, key, ascending };
}
