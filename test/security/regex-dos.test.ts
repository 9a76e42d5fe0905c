// Class: regular-expression denial of service. `wandb.Api().runs(path, filters={"name": {"$regex": …}})`
// sends a pattern that Cairn matches against every run of the project. Under a backtracking engine
// `^(a+)+$` against a 31-character run name held a worker for 12.7 s; the filter now runs on RE2's
// linear-time automaton (re2js), refuses patterns past a size limit and RE2-unsupported syntax.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFilterRegex, MAX_REGEX_LENGTH } from '../../src/domain/wandb/filter-regex.js';
import { MlflowError } from '../../src/errors.js';
import { uniqueName, type TestApp } from '../harness/app.js';
import { RUNS, runIdSuffix, startWandbApp, type Client } from '../integration/wandb-helpers.js';

const S = runIdSuffix();
let t: TestApp;
let w: Client;
let project: string;
const evilName = `${'a'.repeat(40)}!`;
beforeAll(async () => {
  ({ t, w } = await startWandbApp('alice'));
  project = uniqueName('redos');
  await w.upsert({ name: `${'a'.repeat(31)}${S}`, project, displayName: evilName, tags: [evilName] });
  await w.upsert({ name: `plain001${S}`, project, displayName: 'aaaa', tags: ['aaaa'] });
});
afterAll(() => t.close());

const query = (filters: unknown) => w.gql(RUNS, { project, entity: 'alice', order: '+created_at', filters: JSON.stringify(filters) }, '');
const names = async (filters: unknown) => {
  const res = await query(filters);
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  return res.body.data.project.runs.edges.map((e: { node: { name: string } }) => e.node.name);
};

describe('$regex in W&B run filters', () => {
  it('answers catastrophic-backtracking patterns at once, with the right result', async () => {
    for (const pattern of ['^(a+)+$', '^(a|a)*$', '^(a|aa)+$', '(a*)*b', '^(([a-z])+.)+[A-Z]([a-z])+$']) {
      expect(await names({ displayName: { $regex: pattern } }), pattern).toEqual(pattern === '^(a+)+$' || pattern === '^(a|a)*$' || pattern === '^(a|aa)+$' ? [`plain001${S}`] : []);
      expect(await names({ tags: { $regex: pattern } }), pattern).toHaveLength(pattern.endsWith('b') || pattern.includes('[A-Z]') ? 0 : 1);
    }
  });

  it('keeps MongoDB semantics: a search anywhere in the text, with the i, m and s options', async () => {
    expect(await names({ displayName: { $regex: 'A+!', $options: 'i' } })).toEqual([`${'a'.repeat(31)}${S}`]);
    expect(await names({ displayName: { $regex: 'A+!' } })).toEqual([]);
    expect(await names({ name: { $regex: `^plain001` } })).toEqual([`plain001${S}`]);
  });

  it('refuses patterns past the size limit, RE2-unsupported syntax and unknown options, in words', async () => {
    const cases: [unknown, RegExp][] = [
      [{ name: { $regex: 'a'.repeat(MAX_REGEX_LENGTH + 1) } }, /the limit is 1000/],
      [{ name: { $regex: '(a)\\1' } }, /RE2 syntax/],
      [{ name: { $regex: '(?=a)' } }, /no backreferences or lookaround/],
      [{ name: { $regex: '(' } }, /Invalid \$regex/],
      [{ name: { $regex: 'a', $options: 'x' } }, /\$options may hold only/],
      [{ name: { $regex: 42 } }, /needs a pattern string/],
    ];
    for (const [filter, message] of cases) {
      const res = await query(filter);
      expect(res.status).toBe(200);
      expect(res.body.errors?.[0].message, JSON.stringify(filter).slice(0, 80)).toMatch(message);
    }
  });
});

describe('compileFilterRegex', () => {
  it('matches a hostile pattern against a 100,000-character text in one pass', () => {
    const re = compileFilterRegex('^(a+)+$', undefined);
    expect(re.test(`${'a'.repeat(100_000)}!`)).toBe(false);
    expect(re.test('a'.repeat(100_000))).toBe(true);
  });

  it('throws INVALID_PARAMETER_VALUE errors', () => {
    expect(() => compileFilterRegex('x'.repeat(MAX_REGEX_LENGTH + 1), undefined)).toThrow(MlflowError);
    expect(() => compileFilterRegex('(?<=a)b', '')).toThrow(/Invalid \$regex/);
  });
});
