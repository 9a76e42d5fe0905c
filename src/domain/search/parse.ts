import { invalidParam } from '../../errors.js';
import { clip, isKeyword, tokenize, type Segment, type Token } from './tokenize.js';

// Filter string -> list of AND-ed comparisons, checked against a SearchDialect: the table of which
// entities, keys, comparators and value types one search endpoint accepts. The grammar is shared by
// every MLflow search (runs, experiments, and later registered models, model versions, logged
// models); only the dialect differs, so adding a search means writing a dialect and a SQL renderer.

export type Entity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset' | 'metadata' | 'feedback' | 'expectation' | 'span';

export type Comparator =
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'LIKE'
  | 'ILIKE'
  | 'IN'
  | 'NOT IN'
  | 'IS NULL'
  | 'IS NOT NULL';

export type Operand =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'list'; values: string[] }
  | { kind: 'none' };

export interface Comparison {
  entity: Entity;
  /** Canonical key: the metric/param/tag name, or the attribute name after alias translation. */
  key: string;
  op: Comparator;
  operand: Operand;
}

export interface FieldRule {
  /** The literal type a comparison must use (IN lists and IS NULL aside). */
  type: 'string' | 'number';
  ops: readonly Comparator[];
  /** A number field that also takes an integer in quotes (`version_number = '3'`), as model-version search does. */
  quotedIntegers?: boolean;
  /** Comparators that take a number where the others take `type` (an assessment's `>` against its `=`). */
  numberOps?: readonly Comparator[];
}

export interface NamedField extends FieldRule {
  /** Canonical name the SQL renderer maps to a column. */
  key: string;
}

export interface SearchDialect {
  /** How error messages name the searched thing ("runs", "experiments"). */
  subject: string;
  /** Prefix before the first '.' -> entity. An identifier without a prefix is an attribute. */
  prefixes: Readonly<Record<string, Entity>>;
  /** Prefixes MLflow's grammar has and Cairn does not search, with the sentence that says why. */
  unsupported?: Readonly<Record<string, string>>;
  /** Entities whose keys are free-form (metrics, params, tags): one rule for every key. */
  openEntities: Readonly<Partial<Record<Entity, FieldRule>>>;
  /** Entities with a closed list of keys (attributes, datasets): spelling -> field. */
  namedFields: Readonly<Partial<Record<Entity, Readonly<Record<string, NamedField>>>>>;
  orderBy: {
    /** Entities that may be ordered by any key. */
    openEntities: readonly Entity[];
    /** Orderable attribute spellings -> canonical attribute name. */
    attributes: Readonly<Record<string, string>>;
  };
}

// Far above any real filter; bounds the work one request can ask of Postgres (each comparison is a
// subquery, and past a handful a per-row one: see JOINED_FILTERS in runs-sql.ts).
export const MAX_COMPARISONS = 100;

export const NUMERIC_OPS: readonly Comparator[] = ['=', '!=', '<', '<=', '>', '>='];

/** Own-property lookup: client text must never reach Object.prototype ("constructor", "__proto__"). */
export function lookup<T>(table: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return table && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/** Splits `[<entity>.]<key>`: everything after the first segment is the key (tags.mlflow.runName). */
export function resolveEntity(segments: Segment[], dialect: SearchDialect): { entity: Entity; key: string } {
  if (segments.length === 1) return { entity: 'attribute', key: segments[0].text };
  const prefix = segments[0].text;
  const entity = lookup(dialect.prefixes, prefix);
  if (!entity) {
    const why = lookup(dialect.unsupported, prefix);
    if (why) throw invalidParam(why);
    const valid = Object.keys(dialect.prefixes).join(', ');
    throw invalidParam(`Invalid entity type '${clip(prefix)}' for ${dialect.subject}. Valid values are ${valid}`);
  }
  const key = segments
    .slice(1)
    .map((s) => s.text)
    .join('.');
  if (key === '') throw invalidParam(`Empty ${entity} key in '${clip(segments.map((s) => s.text).join('.'))}'`);
  return { entity, key };
}

// Parsed filters by dialect and text. One search parses its filter several times (the planner asks
// different questions of it), and clients repeat the same filters; ~30 us a search for a short
// filter. The lists are frozen, so no caller can change another's. A failed parse is not kept.
const PARSED_KEPT = 512;
const MAX_KEPT_FILTER = 4096;
const parsed = new WeakMap<SearchDialect, Map<string, readonly Comparison[]>>();

/** Parses a filter string; empty or blank means "no filter". */
export function parseFilter(filter: string | null | undefined, dialect: SearchDialect): readonly Comparison[] {
  if (filter == null) return [];
  if (typeof filter !== 'string') throw invalidParam('Invalid filter: expected a string');
  if (filter.length > MAX_KEPT_FILTER) return parseFresh(filter, dialect);
  let kept = parsed.get(dialect);
  if (!kept) parsed.set(dialect, (kept = new Map()));
  const known = kept.get(filter);
  if (known) return known;
  const out = Object.freeze(parseFresh(filter, dialect).map(frozen));
  // Oldest first out: a Map iterates in insertion order.
  if (kept.size >= PARSED_KEPT) kept.delete(kept.keys().next().value!);
  kept.set(filter, out);
  return out;
}

const frozen = (c: Comparison): Comparison => {
  if (c.operand.kind === 'list') Object.freeze(c.operand.values);
  Object.freeze(c.operand);
  return Object.freeze(c);
};

function parseFresh(filter: string, dialect: SearchDialect): Comparison[] {
  if (filter.trim() === '') return [];
  const tokens = tokenize(filter);
  const cursor = new Cursor(tokens, filter);
  const out: Comparison[] = [];
  for (;;) {
    out.push(parseComparison(cursor, dialect));
    if (out.length > MAX_COMPARISONS) throw invalidParam(`Filter has more than ${MAX_COMPARISONS} comparisons`);
    const next = cursor.next();
    if (!next) return out;
    if (isKeyword(next, 'AND')) continue;
    if (isKeyword(next, 'OR')) throw invalidParam(`Invalid filter '${clip(filter)}': OR is not supported, only AND`);
    throw invalidParam(`Invalid clause in filter '${clip(filter)}': unexpected '${clip(next.text)}'`);
  }
}

class Cursor {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    readonly source: string,
  ) {}
  peek(): Token | undefined {
    return this.tokens[this.i];
  }
  next(): Token | undefined {
    return this.tokens[this.i++];
  }
  fail(what: string, got: Token | undefined): never {
    const found = got ? `'${clip(got.text)}'` : 'end of filter';
    throw invalidParam(`Invalid filter '${clip(this.source)}': expected ${what}, found ${found}`);
  }
}

function parseComparison(cursor: Cursor, dialect: SearchDialect): Comparison {
  const ident = cursor.next();
  if (ident?.type === 'lparen') {
    throw invalidParam(`Invalid filter '${clip(cursor.source)}': parentheses are not supported`);
  }
  if (ident?.type !== 'ident' || isReserved(ident)) cursor.fail('an identifier such as metrics.<key>', ident);

  const opToken = cursor.next();
  let op: Comparator;
  let operand: Operand;
  if (opToken?.type === 'op') {
    op = comparatorFromSymbol(opToken.value, cursor.source);
    operand = parseScalar(cursor);
  } else if (isKeyword(opToken, 'LIKE') || isKeyword(opToken, 'ILIKE')) {
    op = isKeyword(opToken, 'LIKE') ? 'LIKE' : 'ILIKE';
    operand = parseScalar(cursor);
  } else if (isKeyword(opToken, 'IN')) {
    op = 'IN';
    operand = parseList(cursor);
  } else if (isKeyword(opToken, 'NOT')) {
    if (!isKeyword(cursor.next(), 'IN')) {
      throw invalidParam(`Invalid filter '${clip(cursor.source)}': NOT is only supported as NOT IN or IS NOT NULL`);
    }
    op = 'NOT IN';
    operand = parseList(cursor);
  } else if (isKeyword(opToken, 'IS')) {
    const negated = isKeyword(cursor.peek(), 'NOT');
    if (negated) cursor.next();
    const nul = cursor.next();
    if (!isKeyword(nul, 'NULL')) cursor.fail(negated ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS', nul);
    op = negated ? 'IS NOT NULL' : 'IS NULL';
    operand = { kind: 'none' };
  } else {
    cursor.fail('a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL)', opToken);
  }
  return checkComparison(ident.segments, op, operand, dialect);
}

const RESERVED = ['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'LIKE', 'ILIKE'];
function isReserved(token: Token): boolean {
  return RESERVED.some((w) => isKeyword(token, w));
}

function comparatorFromSymbol(symbol: string, source: string): Comparator {
  if (symbol === '<>' || symbol === '==') {
    throw invalidParam(`Invalid comparator '${symbol}' in filter '${clip(source)}'; use '!=' or '='`);
  }
  return symbol as Comparator;
}

// The right-hand side of a binary comparison. A lone "double-quoted" chain is a string here, as in
// MLflow (sqlparse reads it as an identifier, which SearchUtils accepts as a quoted value).
function parseScalar(cursor: Cursor): Operand {
  const t = cursor.next();
  if (t?.type === 'string') return { kind: 'string', value: t.value };
  if (t?.type === 'number') return { kind: 'number', value: t.value };
  if (t?.type === 'ident' && t.segments.length === 1 && t.segments[0].quote === '"') {
    return { kind: 'string', value: t.segments[0].text };
  }
  if (t?.type === 'ident') {
    throw invalidParam(
      `Invalid filter '${clip(cursor.source)}': value ${clip(t.text)} is not quoted; use 'single' or "double" quotes`,
    );
  }
  return cursor.fail('a value', t);
}

/** `('a', 'b', ...)`: a non-empty tuple of quoted strings. */
function parseList(cursor: Cursor): Operand {
  const open = cursor.next();
  if (open?.type !== 'lparen') cursor.fail("a parenthesised list of strings such as ('a', 'b')", open);
  const values: string[] = [];
  for (;;) {
    const item = cursor.next();
    if (item?.type === 'string') values.push(item.value);
    else if (item?.type === 'ident' && item.segments.length === 1 && item.segments[0].quote === '"') {
      values.push(item.segments[0].text);
    } else if (item?.type === 'rparen' && values.length === 0) {
      throw invalidParam(`Invalid filter '${clip(cursor.source)}': expected a non-empty list of string values`);
    } else cursor.fail('a quoted string in the list', item);
    const sep = cursor.next();
    if (sep?.type === 'rparen') return { kind: 'list', values };
    if (sep?.type !== 'comma') cursor.fail("',' or ')' in the list", sep);
  }
}

/** Resolves the identifier in the dialect and checks comparator and operand against its rule. */
function checkComparison(segments: Segment[], op: Comparator, operand: Operand, dialect: SearchDialect): Comparison {
  const { entity, key: rawKey } = resolveEntity(segments, dialect);
  let rule: FieldRule | undefined = lookup(dialect.openEntities, entity);
  let key = rawKey;
  if (!rule) {
    const fields = lookup(dialect.namedFields, entity);
    const field = lookup(fields, rawKey);
    if (!fields) throw invalidParam(`${entity} filters are not supported when searching ${dialect.subject}`);
    if (!field) {
      const valid = [...new Set(Object.values(fields).map((f) => f.key))].join(', ');
      throw invalidParam(`Invalid ${entity} key '${clip(rawKey)}' for ${dialect.subject}. Valid keys are ${valid}`);
    }
    rule = field;
    key = field.key;
  }
  const label = entity === 'attribute' || entity === 'dataset' ? `${entity} '${key}'` : `${entity} '${clip(key)}'`;
  if (!rule.ops.includes(op)) {
    throw invalidParam(`Invalid comparator '${op}' for ${label}; valid comparators are ${rule.ops.join(', ')}`);
  }
  const wanted = op === 'IN' || op === 'NOT IN' ? 'list' : op === 'IS NULL' || op === 'IS NOT NULL' ? 'none' : rule.numberOps?.includes(op) ? 'number' : rule.type;
  if (wanted === 'number' && rule.quotedIntegers && operand.kind === 'string' && /^\s*-?\d+\s*$/.test(operand.value)) {
    operand = { kind: 'number', value: Number(operand.value) };
  }
  if (operand.kind !== wanted) {
    const shown = operand.kind === 'string' ? `'${clip(operand.value)}'` : operand.kind === 'number' ? operand.value : '';
    throw invalidParam(
      wanted === 'number'
        ? `Expected a numeric value for ${label}, found ${shown}`
        : `Expected a quoted string value for ${label}, found ${shown}`,
    );
  }
  return { entity, key, op, operand };
}
