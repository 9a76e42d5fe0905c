import { z } from '@hono/zod-openapi';
import { int64Out, isInt64Text, type Int64 } from './int64.js';

// Field types as MLflow's proto-JSON parser accepts them: int64 as a number or a numeric string,
// doubles with "NaN"/"Infinity" strings, booleans also in Python's True/False spelling (GET queries).

// Counts, sizes and ids: integers as numbers or numeric strings, exact up to 2^53.
export const int64 = z
  .union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)])
  .refine(Number.isSafeInteger, { message: 'integers must lie between -(2^53 - 1) and 2^53 - 1' })
  .openapi({ type: 'integer', format: 'int64' });

/** Steps and timestamps: the full int64 range, exact (numbers within 2^53, decimal strings beyond; lib/int64.ts). */
export const exactInt64 = z
  .union([
    z.number().int().refine(Number.isSafeInteger, { message: 'integers beyond 2^53 must be sent without rounding' }),
    z
      .string()
      .refine(isInt64Text, { message: 'not a 64-bit integer' })
      .transform((s): Int64 => int64Out(s)),
  ])
  .openapi({ type: 'integer', format: 'int64' });

export const double = z
  .union([
    z.number(),
    z.enum(['NaN', 'Infinity', '-Infinity', 'nan', 'inf', '-inf']).transform(parseSpecial),
    z.string().regex(/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/).transform(Number),
  ])
  .openapi({ type: 'number', format: 'double' });

function parseSpecial(s: string): number {
  if (s.toLowerCase() === 'nan') return NaN;
  return s.startsWith('-') ? -Infinity : Infinity;
}

export const bool = z
  .union([z.boolean(), z.enum(['true', 'false', 'True', 'False']).transform((s) => s.toLowerCase() === 'true')])
  .openapi({ type: 'boolean' });

/** A required string: MLflow treats "" as missing. */
export const requiredString = z.string().min(1);

/** A repeated field: GET queries give one string when the key appears once. */
export const repeated = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(item));

export const keyValue = z.object({ key: z.string(), value: z.string().optional() });

export const viewType = z
  .union([z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']), z.number().int().min(1).max(3), z.string().regex(/^[123]$/)])
  .transform((v): ViewType => (typeof v === 'string' && /^[123]$/.test(v) ? VIEW_BY_NUMBER[Number(v)] : typeof v === 'number' ? VIEW_BY_NUMBER[v] : (v as ViewType)))
  .openapi({ type: 'string', enum: ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] });

const VIEW_BY_NUMBER: Record<number, 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL'> = { 1: 'ACTIVE_ONLY', 2: 'DELETED_ONLY', 3: 'ALL' };
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
