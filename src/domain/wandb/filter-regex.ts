import { RE2JS } from 're2js';
import { invalidParam } from '../../errors.js';

// `$regex` in a W&B run filter is matched against every run of a project, on server data the caller
// does not control. A backtracking engine (JavaScript's RegExp) can spend exponential time on a
// pattern such as `^(a+)+$`; RE2's automaton is linear in the text whatever the pattern, so one
// filter costs at most (runs x text length). RE2 has no backreferences or lookaround: those
// patterns are refused with a 400 rather than silently matched differently.

export const MAX_REGEX_LENGTH = 1000;

const FLAGS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, u: 0 };

export interface FilterRegex {
  test(text: string): boolean;
}

/** A `$regex` with its MongoDB `$options` (i, m, s; u is implied), compiled once per filter. */
export function compileFilterRegex(pattern: unknown, options: unknown): FilterRegex {
  if (typeof pattern !== 'string') throw invalidParam('$regex needs a pattern string');
  if (pattern.length > MAX_REGEX_LENGTH) {
    throw invalidParam(`$regex pattern is ${pattern.length} characters long; the limit is ${MAX_REGEX_LENGTH}`);
  }
  let flags = 0;
  if (options !== undefined) {
    if (typeof options !== 'string' || !/^[imsu]*$/.test(options)) throw invalidParam('$options may hold only the letters i, m, s and u');
    for (const letter of options) flags |= FLAGS[letter];
  }
  try {
    return RE2JS.compile(pattern, flags);
  } catch (err) {
    throw invalidParam(`Invalid $regex ${JSON.stringify(pattern)}: ${(err as Error).message} (patterns use RE2 syntax: no backreferences or lookaround)`);
  }
}
