import { invalidParam } from '../../errors.js';

// Lexer for MLflow's search mini-language (filter strings and order_by clauses). MLflow lexes with
// sqlparse; this keeps the parts of its token classes that the grammar relies on:
//  - an identifier is a dotted chain of bare words, "double-quoted" or `backticked` segments, written
//    without spaces (`tags.mlflow.runName`, metrics."acc-top5", `params`.`batch size`);
//  - 'single-quoted' text is always a string literal;
//  - a chain made of one "double-quoted" segment is ambiguous: a key on the left of a comparator, a
//    string value on its right. The lexer keeps the quote kind and lets the parser decide.
// Keywords (AND, IN, LIKE, ...) come out as one-segment bare identifiers; the parser matches them
// case-insensitively, so `tags.and` or `params.in` remain ordinary keys.

export interface Segment {
  text: string;
  /** '' for a bare word, otherwise the quote character that enclosed it. */
  quote: '' | '"' | '`';
}

export type Token =
  | { type: 'ident'; segments: Segment[]; pos: number; text: string }
  | { type: 'string'; value: string; pos: number; text: string }
  | { type: 'number'; value: number; pos: number; text: string }
  | { type: 'op'; value: string; pos: number; text: string }
  | { type: 'lparen' | 'rparen' | 'comma'; pos: number; text: string };

const WORD = /[\p{L}\p{N}_$]+/uy;
const NUMBER = /[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/y;
const OPERATOR = /<=|>=|!=|<>|==|=|<|>/y;
const WORD_CHAR = /[\p{L}\p{N}_$]/u;
const DIGIT = /[0-9]/;

/** Splits a filter or order_by clause into tokens; any character it cannot place is a 400. */
export function tokenize(input: string): Token[] {
  if (typeof input !== 'string') throw invalidParam('Invalid search expression: expected a string');
  // Postgres text cannot hold NUL; refusing it here keeps it from surfacing as a database error.
  if (input.includes('\u0000')) throw invalidParam('Invalid search expression: contains a NUL character');
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === "'") {
      const { value, end } = readQuoted(input, i, "'");
      tokens.push({ type: 'string', value, pos: start, text: input.slice(start, end) });
      i = end;
    } else if (startsNumber(input, i)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(input)!;
      const end = i + m[0].length;
      // "1abc", "1.2.3" or "5'x'" are not numbers followed by something else: they are typos.
      if (end < input.length && (WORD_CHAR.test(input[end]) || /[."'`]/.test(input[end]))) {
        throw invalidParam(`Invalid number starting at position ${start}: '${clip(input.slice(start))}'`);
      }
      tokens.push({ type: 'number', value: Number(m[0]), pos: start, text: m[0] });
      i = end;
    } else if (ch === '"' || ch === '`' || WORD_CHAR.test(ch)) {
      const { segments, end } = readChain(input, i);
      tokens.push({ type: 'ident', segments, pos: start, text: input.slice(start, end) });
      i = end;
    } else if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ type: ch === '(' ? 'lparen' : ch === ')' ? 'rparen' : 'comma', pos: start, text: ch });
      i++;
    } else {
      OPERATOR.lastIndex = i;
      const m = OPERATOR.exec(input);
      if (!m) throw invalidParam(`Unexpected character '${ch}' at position ${start} in '${clip(input)}'`);
      tokens.push({ type: 'op', value: m[0], pos: start, text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

function startsNumber(input: string, i: number): boolean {
  const ch = input[i];
  if (DIGIT.test(ch)) return true;
  const next = input[i + 1] ?? '';
  if (ch === '.') return DIGIT.test(next);
  if (ch === '-' || ch === '+') return DIGIT.test(next) || (next === '.' && DIGIT.test(input[i + 2] ?? ''));
  return false;
}

/** Reads `seg(.seg)*` starting at i; a dot must be followed immediately by another segment. */
function readChain(input: string, i: number): { segments: Segment[]; end: number } {
  const segments: Segment[] = [];
  for (;;) {
    const ch = input[i];
    if (ch === '"' || ch === '`') {
      const { value, end } = readQuoted(input, i, ch);
      segments.push({ text: value, quote: ch });
      i = end;
    } else {
      WORD.lastIndex = i;
      const m = WORD.exec(input);
      if (!m) throw invalidParam(`Expected a name after '.' at position ${i} in '${clip(input)}'`);
      segments.push({ text: m[0], quote: '' });
      i += m[0].length;
    }
    if (input[i] !== '.') return { segments, end: i };
    i++;
  }
}

/**
 * Reads a quoted run starting at the opening quote. A doubled quote or a backslash-escaped quote
 * stands for the quote itself (the two escapes sqlparse accepts); other backslashes are kept, so a
 * LIKE pattern such as 'a\_b' reaches Postgres unchanged. (MLflow keeps escapes verbatim; we
 * unescape quotes so that a value containing a quote can be searched at all.)
 */
function readQuoted(input: string, start: number, quote: string): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < input.length) {
    const ch = input[i];
    if (ch === quote) {
      if (input[i + 1] === quote) {
        value += quote;
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    if (ch === '\\' && input[i + 1] === quote) {
      value += quote;
      i += 2;
      continue;
    }
    // An escaped backslash is kept as written but must not escape the closing quote: 'C:\\'.
    if (ch === '\\' && input[i + 1] === '\\') {
      value += '\\\\';
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
  throw invalidParam(`Unterminated ${quote} quote starting at position ${start} in '${clip(input)}'`);
}

/** Long client strings are echoed back shortened, never whole. */
export function clip(s: string, max = 200): string {
  return s.length > max ? s.slice(0, max) + '…' : s;
}

/** True when the token is the given keyword (bare, case-insensitive). */
export function isKeyword(token: Token | undefined, word: string): boolean {
  return (
    token?.type === 'ident' &&
    token.segments.length === 1 &&
    token.segments[0].quote === '' &&
    token.segments[0].text.toUpperCase() === word
  );
}
