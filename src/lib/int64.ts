// MLflow's steps and timestamps are int64, and some clients log time.time_ns() as a step. JS numbers
// are exact only up to 2^53, so larger integers travel as decimal strings: quoted before JSON.parse
// can round them, stored exactly through ::bigint casts, and sent back as strings (which protobuf's
// JSON parser accepts for int64). Everything within 2^53 stays a plain number.
export type Int64 = number | string;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function isInt64Text(s: string): boolean {
  if (!/^-?\d{1,20}$/.test(s)) return false;
  const n = BigInt(s);
  return n >= INT64_MIN && n <= INT64_MAX;
}

/** A number when exact, else the decimal string: for int8 values as either driver returns them. */
export function int64Out(v: number | string | bigint): Int64 {
  if (typeof v === 'number') return v;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : String(v);
}

// A run of 16+ digits where a JSON value starts: the cheap test that skips the rewrite for ordinary
// bodies. Random doubles (0.1234567890123456...) have long digit runs too, but after a '.', so a
// 1000-metric log-batch does not pay for a rescan. A match inside a string only costs the rescan.
const LONG_INTEGER = /[:[,]\s*-?\d{16,}/;
// Strings (skipped whole) and number literals, in one pass of the regex engine.
const STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*/g;

/** Wraps integer literals of 16+ digits outside strings in quotes, so JSON.parse keeps every digit. */
export function quoteLongIntegers(text: string): string {
  if (!LONG_INTEGER.test(text)) return text;
  return text.replace(STRING_OR_NUMBER, (m) => (m.charCodeAt(0) !== 34 && /^-?\d{16,}$/.test(m) ? `"${m}"` : m));
}
