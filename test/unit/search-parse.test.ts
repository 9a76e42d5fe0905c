import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { MlflowError } from '../../src/errors.js';
import { EXPERIMENT_SEARCH_DIALECT, experimentSearchQuery } from '../../src/domain/search/experiments-sql.js';
import { parseOrderBy } from '../../src/domain/search/order-by.js';
import { parseFilter } from '../../src/domain/search/parse.js';
import { RUN_SEARCH_DIALECT, runSearchQuery } from '../../src/domain/search/runs-sql.js';
import { tokenize } from '../../src/domain/search/tokenize.js';

const runs = (f: string) => parseFilter(f, RUN_SEARCH_DIALECT);
const exps = (f: string) => parseFilter(f, EXPERIMENT_SEARCH_DIALECT);
const order = (o: string[]) => parseOrderBy(o, RUN_SEARCH_DIALECT);

function expectInvalid(fn: () => unknown): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, 'expected an error').toBeInstanceOf(MlflowError);
  expect((thrown as MlflowError).code).toBe('INVALID_PARAMETER_VALUE');
}

describe('run filter parsing', () => {
  it('treats empty and blank filters as no filter', () => {
    expect(runs('')).toEqual([]);
    expect(runs('   ')).toEqual([]);
    expect(parseFilter(undefined, RUN_SEARCH_DIALECT)).toEqual([]);
  });

  it('parses the §8.1 examples', () => {
    expect(runs("metrics.rmse < 1 and params.model = 'tree'")).toEqual([
      { entity: 'metric', key: 'rmse', op: '<', operand: { kind: 'number', value: 1 } },
      { entity: 'param', key: 'model', op: '=', operand: { kind: 'string', value: 'tree' } },
    ]);
    expect(runs('metrics."accuracy-top5" >= 0.9 AND tags.`mlflow.source.type` = \'LOCAL\'')).toEqual([
      { entity: 'metric', key: 'accuracy-top5', op: '>=', operand: { kind: 'number', value: 0.9 } },
      { entity: 'tag', key: 'mlflow.source.type', op: '=', operand: { kind: 'string', value: 'LOCAL' } },
    ]);
    expect(runs("attributes.status = 'FINISHED' and attributes.start_time > 1712000000000")).toEqual([
      { entity: 'attribute', key: 'status', op: '=', operand: { kind: 'string', value: 'FINISHED' } },
      { entity: 'attribute', key: 'start_time', op: '>', operand: { kind: 'number', value: 1712000000000 } },
    ]);
    expect(runs("attribute.run_id IN ('4d3c', '9e1a')")).toEqual([
      { entity: 'attribute', key: 'run_id', op: 'IN', operand: { kind: 'list', values: ['4d3c', '9e1a'] } },
    ]);
    expect(runs("run_name LIKE 'sweep-%'")[0]).toMatchObject({ entity: 'attribute', key: 'run_name', op: 'LIKE' });
    expect(runs("tags.mlflow.runName ILIKE '%BEST%'")[0]).toMatchObject({
      entity: 'tag',
      key: 'mlflow.runName',
      op: 'ILIKE',
      operand: { kind: 'string', value: '%BEST%' },
    });
    expect(runs('params.lr IS NOT NULL')).toEqual([
      { entity: 'param', key: 'lr', op: 'IS NOT NULL', operand: { kind: 'none' } },
    ]);
    expect(runs("datasets.name = 'iris' AND datasets.context = 'training'").map((c) => [c.entity, c.key])).toEqual([
      ['dataset', 'name'],
      ['dataset', 'context'],
    ]);
  });

  it('accepts every entity alias', () => {
    const entities = (prefixes: string[], rest: string) => prefixes.map((p) => runs(`${p}.${rest}`)[0].entity);
    expect(entities(['metric', 'metrics', '`metrics`'], 'x > 1')).toEqual(['metric', 'metric', 'metric']);
    expect(entities(['param', 'params', 'parameter', 'parameters'], "x = 'a'")).toEqual(Array(4).fill('param'));
    expect(entities(['tag', 'tags'], "x = 'a'")).toEqual(['tag', 'tag']);
    expect(entities(['attribute', 'attributes', 'attr', 'run'], "status = 'a'")).toEqual(Array(4).fill('attribute'));
    expect(entities(['dataset', 'datasets'], "digest = 'a'")).toEqual(['dataset', 'dataset']);
    expect(runs("status = 'RUNNING'")[0].entity).toBe('attribute');
  });

  it('translates attribute aliases', () => {
    for (const alias of ['"run name"', '`Run name`', '"Run Name"', 'run_name']) {
      expect(runs(`${alias} = 'x'`)[0].key).toBe('run_name');
    }
    expect(runs('created > 5')[0].key).toBe('start_time');
    expect(runs('attributes.Created > 5')[0].key).toBe('start_time');
  });

  it('is case-insensitive for keywords', () => {
    const parsed = runs("params.a like 'x%' And tags.b iLiKe 'Y' aNd params.c is not null AND tags.d Is Null");
    expect(parsed.map((c) => c.op)).toEqual(['LIKE', 'ILIKE', 'IS NOT NULL', 'IS NULL']);
    expect(runs("run_id not in ('a')")[0].op).toBe('NOT IN');
    expect(runs("run_id in ('a','b','c')")[0].operand).toEqual({ kind: 'list', values: ['a', 'b', 'c'] });
  });

  it('reads numbers: negative, float, exponent', () => {
    const values = ['-1', '2.5', '.5', '-0.25', '1e3', '1.5E-2', '-2e+2', '7.'].map(
      (n) => (runs(`metrics.m > ${n}`)[0].operand as { value: number }).value,
    );
    expect(values).toEqual([-1, 2.5, 0.5, -0.25, 1000, 0.015, -200, 7]);
    expect(runs('metrics.m>-1')[0].operand).toEqual({ kind: 'number', value: -1 });
  });

  it('distinguishes a double-quoted key from a double-quoted value', () => {
    expect(runs('params."my-param" = "my value"')).toEqual([
      { entity: 'param', key: 'my-param', op: '=', operand: { kind: 'string', value: 'my value' } },
    ]);
    expect(runs('"run name" = "r1"')[0]).toMatchObject({ key: 'run_name', operand: { value: 'r1' } });
  });

  it('keeps quotes and dots inside quoted keys and values', () => {
    expect(runs("tags.`a.b c` = 'it''s'")[0]).toMatchObject({ key: 'a.b c', operand: { value: "it's" } });
    expect(runs("params.x = 'it\\'s'")[0].operand).toEqual({ kind: 'string', value: "it's" });
    expect(runs('params.x = "say ""hi"""')[0].operand).toEqual({ kind: 'string', value: 'say "hi"' });
    expect(runs("params.x LIKE 'a\\_b'")[0].operand).toEqual({ kind: 'string', value: 'a\\_b' });
    expect(runs("params.x = 'C:\\\\'")[0].operand).toEqual({ kind: 'string', value: 'C:\\\\' });
    expect(runs("params.and = 'x' and params.in = 'y'").map((c) => c.key)).toEqual(['and', 'in']);
  });

  const bad: Array<[string, string]> = [
    ["metrics.x < 'a'", 'string value for a metric'],
    ['params.x > 1', 'numeric comparator on a param'],
    ["params.x > '1'", 'numeric comparator on a param, string value'],
    ['params.x = 1', 'unquoted number for a param'],
    ['params.x = abc', 'bare word as value'],
    ["metrics.x LIKE '1'", 'LIKE on a metric'],
    ['metrics.x IS NULL', 'IS NULL on a metric'],
    ["params.a = 'x' OR params.b = 'y'", 'OR'],
    ["(params.a = 'x')", 'parentheses'],
    ["params.a = 'x' AND (params.b = 'y')", 'parentheses after AND'],
    ["params.a = 'unterminated", 'unterminated single quote'],
    ['params."unterminated = 1', 'unterminated double quote'],
    ["params.`x = 'a'", 'unterminated backtick'],
    ["foo.bar = 'x'", 'unknown entity'],
    ["unknown_attr = 'x'", 'unknown attribute'],
    ["lifecycle_stage = 'active'", 'lifecycle_stage is not searchable'],
    ["status IN ('a', 'b')", 'IN on a non-run_id attribute'],
    ["params.x IN ('a')", 'IN on a param'],
    ["run_id IN ()", 'empty IN list'],
    ['run_id IN (1, 2)', 'numbers in an IN list'],
    ["run_id IN 'a'", 'IN without parentheses'],
    ["run_id IN ('a' 'b')", 'missing comma in list'],
    ["run_id NOT LIKE 'a'", 'NOT LIKE'],
    ["start_time > '1'", 'string for a numeric attribute'],
    ["start_time LIKE '1'", 'LIKE on a numeric attribute'],
    ["datasets.foo = 'x'", 'unknown dataset key'],
    ["datasets.name > 'x'", 'numeric comparator on a dataset'],
    ["params.x <> 'a'", '<> comparator'],
    ["params.x == 'a'", '== comparator'],
    ["params.x ~ 'a'", 'unknown character'],
    ["params.x = 'a' AND", 'dangling AND'],
    ["params.x = 'a' params.y = 'b'", 'missing AND'],
    ["params.x 'a'", 'missing comparator'],
    ['params.x =', 'missing value'],
    ['params.x IS', 'IS without NULL'],
    ['params.x IS NOT', 'IS NOT without NULL'],
    ['metrics.x > 1abc', 'malformed number'],
    ["params. = 'x'", 'empty key'],
    ["tags.a-b = 'x'", 'unquoted dash in a key'],
    ["metrics.constructor > 1 AND constructor = 'x'", 'prototype names are not attributes'],
    ["__proto__.x = 'x'", 'prototype names are not entities'],
    ["'params.x' = 'a'", 'single-quoted identifier'],
    ["AND params.x = 'a'", 'leading AND'],
  ];
  it('rejects NUL characters, non-strings and oversized filters', () => {
    expectInvalid(() => runs("params.x = 'a\u0000b'"));
    expectInvalid(() => parseFilter(42 as unknown as string, RUN_SEARCH_DIALECT));
    expect(runs(Array(100).fill('metrics.x > 1').join(' AND '))).toHaveLength(100);
    expectInvalid(() => runs(Array(101).fill('metrics.x > 1').join(' AND ')));
  });

  it.each(bad)('rejects %s (%s)', (filter) => {
    expectInvalid(() => runs(filter));
  });
});

describe('experiment filter parsing', () => {
  it('parses attributes and tags', () => {
    expect(exps("name LIKE 'proj-%'")[0]).toMatchObject({ entity: 'attribute', key: 'name', op: 'LIKE' });
    expect(exps("tags.team = 'ml' AND creation_time > 1700000000000")).toEqual([
      { entity: 'tag', key: 'team', op: '=', operand: { kind: 'string', value: 'ml' } },
      { entity: 'attribute', key: 'creation_time', op: '>', operand: { kind: 'number', value: 1700000000000 } },
    ]);
    expect(exps("attribute.name IN ('a', 'b')")[0].operand).toEqual({ kind: 'list', values: ['a', 'b'] });
    expect(exps('tag.x IS NULL')[0].op).toBe('IS NULL');
    expect(exps('last_update_time <= 5')[0].key).toBe('last_update_time');
  });

  it.each([
    "metrics.x > 1",
    "params.x = 'a'",
    "datasets.name = 'a'",
    "run.name = 'a'",
    "experiment_id = '1'",
    "creation_time > 'a'",
    "name > 'a'",
    "tags.x IN ('a')",
  ])('rejects %s', (filter) => expectInvalid(() => exps(filter)));
});

describe('order_by parsing', () => {
  it('parses identifiers and directions', () => {
    expect(order(['metrics.rmse', 'params.lr DESC', 'tags.`mlflow.runName` asc', 'start_time desc'])).toEqual([
      { entity: 'metric', key: 'rmse', ascending: true },
      { entity: 'param', key: 'lr', ascending: false },
      { entity: 'tag', key: 'mlflow.runName', ascending: true },
      { entity: 'attribute', key: 'start_time', ascending: false },
    ]);
    expect(order(['created DESC'])[0]).toEqual({ entity: 'attribute', key: 'start_time', ascending: false });
    expect(order(['metrics."my metric" DESC'])[0]).toMatchObject({ key: 'my metric', ascending: false });
    expect(order(['attributes.run_name'])[0].key).toBe('run_name');
    expect(parseOrderBy(undefined, RUN_SEARCH_DIALECT)).toEqual([]);
  });

  it.each([
    [['metrics.x UP']],
    [['metrics.x ASC DESC']],
    [['metrics.x,']],
    [['']],
    [["'metrics.x'"]],
    [['datasets.name']],
    [['foo.bar']],
    [['lifecycle_stage']],
    [['metrics.x', 'metric.x DESC']],
    [['created', 'start_time']],
  ])('rejects %j', (clauses) => expectInvalid(() => order(clauses)));

  it('rejects too many clauses and non-list input', () => {
    expect(order(Array.from({ length: 20 }, (_, i) => `metrics.m${i}`))).toHaveLength(20);
    expectInvalid(() => order(Array.from({ length: 21 }, (_, i) => `metrics.m${i}`)));
    expectInvalid(() => parseOrderBy('metrics.x' as unknown as string[], RUN_SEARCH_DIALECT));
    expectInvalid(() => order([5 as unknown as string]));
  });

  it('allows only attribute keys for experiments', () => {
    expect(parseOrderBy(['experiment_id DESC'], EXPERIMENT_SEARCH_DIALECT)[0]).toMatchObject({ key: 'experiment_id' });
    expectInvalid(() => parseOrderBy(['tags.x'], EXPERIMENT_SEARCH_DIALECT));
    expectInvalid(() => parseOrderBy(['status'], EXPERIMENT_SEARCH_DIALECT));
  });
});

describe('SQL rendering', () => {
  const dialect = new PgDialect();
  const base = { experimentIds: [1], runViewType: 'ACTIVE_ONLY' as const, offset: 0, limit: 10 };

  it('never puts client text into the SQL string', () => {
    const evil = "x'; DROP TABLE runs; --";
    const q = dialect.sqlToQuery(
      runSearchQuery({
        ...base,
        filter: `params."${evil}" = "${evil}" and tags.\`${evil}\` LIKE '%' and run_id IN ('${evil.replace(/'/g, "''")}')`,
        orderBy: [`params.\`${evil}\` DESC`],
      }),
    );
    expect(q.sql).not.toContain('DROP');
    expect(q.params).toContain(evil);
  });

  it('rejects bad pages, view types and experiment ids', () => {
    expectInvalid(() => runSearchQuery({ ...base, offset: -1 }));
    expectInvalid(() => runSearchQuery({ ...base, limit: 1.5 }));
    expectInvalid(() => runSearchQuery({ ...base, runViewType: 'BOGUS' as never }));
    expectInvalid(() => runSearchQuery({ ...base, experimentIds: [Number.NaN] }));
    expectInvalid(() => runSearchQuery({ ...base, orderBy: ['metrics.x sideways'] }));
    expectInvalid(() => experimentSearchQuery({ viewType: 'ALL', offset: 0, limit: 1, filter: 'metrics.x > 1' }));
  });

  it('renders the default orders', () => {
    expect(dialect.sqlToQuery(runSearchQuery(base)).sql).toContain('ORDER BY r.start_time DESC NULLS LAST, r.run_id ASC');
    const e = dialect.sqlToQuery(experimentSearchQuery({ viewType: 'ACTIVE_ONLY', offset: 0, limit: 5 }));
    expect(e.sql).toContain('ORDER BY e.creation_time DESC, e.experiment_id ASC');
  });

  it('tokenizes positions for messages', () => {
    expect(tokenize("a.b = 'c'").map((t) => [t.type, t.pos])).toEqual([
      ['ident', 0],
      ['op', 4],
      ['string', 6],
    ]);
  });
});

describe('parsed filters kept for reuse', () => {
  it('answers a repeated filter with the same frozen list, per dialect', () => {
    const f = "attributes.run_id IN ('a', 'b') and params.p = 'x'";
    const first = runs(f);
    expect(runs(f)).toBe(first);
    expect(Object.isFrozen(first) && first.every((c) => Object.isFrozen(c) && Object.isFrozen(c.operand))).toBe(true);
    const list = first[0].operand;
    expect(list.kind === 'list' && Object.isFrozen(list.values)).toBe(true);
    // Another dialect reads the same text its own way (experiments have no params).
    expectInvalid(() => exps(f));
  });

  it('still refuses a bad filter every time it is sent', () => {
    expectInvalid(() => runs('metrics.m >'));
    expectInvalid(() => runs('metrics.m >'));
  });
});
