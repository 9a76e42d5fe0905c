import { z } from '@hono/zod-openapi';

// Shared pieces of the UI family's request and response schemas.
export const tag = 'UI';
export const doubleOut = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);

/** A finite number in a JSON body (NaN and ±Infinity are no bounds). */
export const finiteNumber = z.number().refine(Number.isFinite, { message: 'must be a finite number' });

/** An integer in a query string or a body, within [min, max]. */
export const boundedInt = (min: number, max: number) =>
  z
    .union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)])
    .refine((n) => Number.isSafeInteger(n) && n >= min && n <= max, { message: `must be an integer between ${min} and ${max}` })
    .openapi({ type: 'integer', minimum: min, maximum: max });
