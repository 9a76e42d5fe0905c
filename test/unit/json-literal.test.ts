import { describe, expect, it } from 'vitest';
import { literalAt, pyFloatRepr, pythonNumber } from '../../src/lib/json-literal.js';

describe('literalAt', () => {
  const text = ' { "a" : 9.0, "b": [1, {"c": "x,]}"}, 1e3 ], "d": {"e": -0.0}, "a": 7.50 } ';
  it('finds values by key and index, skipping strings that hold brackets and commas', () => {
    expect(literalAt(text, ['b', 0])).toBe('1');
    expect(literalAt(text, ['b', 1, 'c'])).toBe('"x,]}"');
    expect(literalAt(text, ['b', 2])).toBe('1e3');
    expect(literalAt(text, ['d', 'e'])).toBe('-0.0');
  });
  it('takes the last of repeated keys, as JSON.parse does', () => {
    expect(literalAt(text, ['a'])).toBe('7.50');
  });
  it('is undefined for paths that are not there', () => {
    expect(literalAt(text, ['z'])).toBeUndefined();
    expect(literalAt(text, ['b', 3])).toBeUndefined();
    expect(literalAt(text, ['a', 0])).toBeUndefined();
  });
});

describe("Python's view of a number", () => {
  it('prints floats as repr does', () => {
    expect([9, 1e16, 1e-5, 0.0001, 1234.5, -2.5e-7, 0, -0, 1 / 3].map(pyFloatRepr)).toEqual([
      '9.0', '1e+16', '1e-05', '0.0001', '1234.5', '-2.5e-07', '0.0', '-0.0', '0.3333333333333333',
    ]);
  });
  it('tells ints from floats by the literal', () => {
    expect(pythonNumber('9.0')).toEqual({ text: '9.0', type: 'float' });
    expect(pythonNumber('1E20')).toEqual({ text: '1e+20', type: 'float' });
    expect(pythonNumber('99999999999999999999')).toEqual({ text: '99999999999999999999', type: 'int' });
    expect(pythonNumber('-0')).toEqual({ text: '0', type: 'int' });
    expect(pythonNumber('"9.0"')).toBeUndefined();
    expect(pythonNumber(undefined)).toBeUndefined();
  });
});
