import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import { notFound } from '../../errors.js';
import { textArray } from '../../lib/pg-array.js';
import { checkRunId } from '../ids.js';

/** Checks the ids' form, then that each names a run (deleted runs included): a 404 names the first missing one. */
export async function requireRuns(db: Orm, runIds: string[]): Promise<void> {
  runIds.forEach(checkRunId);
  const found = await rows<{ run_id: string }>(db, sql`select run_id from runs where run_id = any(${textArray(runIds)}::text[])`);
  const known = new Set(found.map((r) => r.run_id));
  const missing = runIds.find((id) => !known.has(id));
  if (missing !== undefined) throw notFound(`Run with id=${missing} not found`);
}
