import { sql } from 'drizzle-orm';

// How the trace searches and the trace metrics read an assessment row `a` (its `body` as the client
// sent it), as MLflow's SqlAssessments columns hold it: both must agree on what counts and what
// the value is.

/** Still standing: not overridden. Read without a cast, so an exported `valid` that is no boolean counts as valid. */
export const ASSESSMENT_VALID = sql.raw(`(a.body -> 'valid') IS DISTINCT FROM 'false'::jsonb`);

/**
 * The value as JSON text, as MLflow stores it: a feedback's or an expectation's value, or an
 * expectation's `serialized_value` (an object or a list arrives as JSON text); `null` without one.
 */
export const ASSESSMENT_VALUE_TEXT = sql.raw(
  `coalesce((a.body -> 'feedback' -> 'value')::text, (a.body -> 'expectation' -> 'value')::text, a.body -> 'expectation' -> 'serialized_value' ->> 'value', 'null')`,
);
