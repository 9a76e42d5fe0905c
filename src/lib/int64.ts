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

const LONG_INTEGER = /\d{16,}/;

/** Wraps integer literals of 16+ digits outside strings in quotes, so JSON.parse keeps every digit. */
export function quoteLongIntegers(text: string): string {
  if (!LONG_INTEGER.test(text)) return text;
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
      continue;
    }
    if (ch === '-' || (ch >= '0' && ch <= '9')) {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j])) j++;
      const literal = text.slice(i, j);
      out += /^-?\d{16,}$/.test(literal) ? `"${literal}"` : literal;
      i = j - 1;
      continue;
    }
    out += ch;
  }
  return out;
}
