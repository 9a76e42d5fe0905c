import { describe, expect, it } from 'vitest';
import { jsonObjectAggMembers } from '../../src/lib/pg-json.js';

// json_object_agg's text, as Postgres writes it: `{ ` key ` : ` value, `, ` between pairs, ` }`.
const agg = (pairs: [string, string][]) => `{ ${pairs.map(([k, v]) => `${JSON.stringify(k)} : ${JSON.stringify(v)}`).join(', ')} }`;
const compact = (pairs: [string, string][]) => pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',');

describe('jsonObjectAggMembers', () => {
  const cases: [string, [string, string][]][] = [
    ['one pair', [['k', 'v']]],
    ['several', [['a', '1'], ['b', ''], ['', 'empty key']]],
    ['separators inside strings', [['" : "', '", "'], [' : ', ', '], ['{ ', ' }']]],
    ['backslashes before quotes', [['\\', '\\\\'], ['a\\"b', 'end\\'], ['"', '\\" : \\"']]],
    ['control characters and non-ASCII', [['\n\t\u0001', '\u001f\u007f\u2028é漢😀']]],
  ];
  it('is undefined for a key that may be integer-like or is the replaced one, whatever the values', () => {
    expect(jsonObjectAggMembers(agg([['a', '1'], ['7', 'x']]), 'r')).toBeUndefined();
    expect(jsonObjectAggMembers(agg([['01', 'x']]), 'r')).toBeUndefined();
    expect(jsonObjectAggMembers(agg([['a', 'x'], ['r', 'y']]), 'r')).toBeUndefined();
    expect(jsonObjectAggMembers(agg([['a', '7'], ['rr', 'r'], ['x7', '"r"']]), 'r')).toBe(compact([['a', '7'], ['rr', 'r'], ['x7', '"r"']]));
  });
  for (const [what, pairs] of cases) {
    it(what, () => {
      expect(jsonObjectAggMembers(agg(pairs), 'r')).toBe(compact(pairs));
      expect(JSON.parse(`{${jsonObjectAggMembers(agg(pairs), 'r')}}`)).toEqual(JSON.parse(agg(pairs)));
    });
  }
});
