import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam, notFound } from '../../errors.js';
import { protoTimestamp } from '../../lib/proto-time.js';
import { checkStorableJson } from '../../lib/storable-text.js';
import { lockTrace } from './read.js';
import { checkTraceId } from './wire.js';

// Assessments on a trace (mlflow.log_feedback, log_expectation, update_assessment,
// delete_assessment, override_feedback). The body is the client's Assessment proto JSON; the server
// sets the ids, the times and `valid`.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const MAX_BODY_CHARS = 1_000_000;
// The fields update_assessment may change (its update_mask paths).
const UPDATABLE = new Set(['assessment_name', 'expectation', 'feedback', 'rationale', 'metadata']);

const assessmentNotFound = (id: string, traceId: string) => notFound(`Assessment with ID '${id.slice(0, 100)}' not found for trace '${traceId}'`);

function checkBody(a: Obj): void {
  checkStorableJson(a, 'assessment');
  if (JSON.stringify(a).length > MAX_BODY_CHARS) throw invalidParam(`The assessment exceeds ${MAX_BODY_CHARS} characters`);
  if (a.expectation !== undefined && a.feedback !== undefined) throw invalidParam('An assessment holds either an expectation or a feedback, not both');
}

export async function createAssessment(deps: Deps, traceId: string, input: Obj): Promise<Obj> {
  checkTraceId(traceId);
  if (typeof input.assessment_name !== 'string' || !input.assessment_name) throw invalidParam("Missing value for required parameter 'assessment.assessment_name'");
  if (input.expectation === undefined && input.feedback === undefined) throw invalidParam('An assessment needs an expectation or a feedback');
  checkBody(input);
  const now = deps.now();
  const id = `a-${randomBytes(16).toString('hex')}`;
  const stamp = protoTimestamp(now);
  const body: Obj = { ...input, assessment_id: id, trace_id: traceId, create_time: stamp, last_update_time: stamp, valid: true };
  await deps.db.transaction(async (tx) => {
    await lockTrace(tx, traceId);
    // override_feedback: the new assessment replaces the one it names, which stays but turns invalid.
    if (typeof input.overrides === 'string' && input.overrides) {
      const old = await lockAssessment(tx, traceId, input.overrides);
      await tx.execute(sql`update assessments set body = ${JSON.stringify({ ...old, valid: false })}::jsonb where assessment_id = ${input.overrides}`);
    }
    await tx.execute(sql`insert into assessments (assessment_id, trace_id, body, create_time) values (${id}, ${traceId}, ${JSON.stringify(body)}::jsonb, ${now})`);
  });
  return body;
}

const lockAssessment = (tx: Orm, traceId: string, id: string) => findAssessment(tx, traceId, id, sql` for update`);
const lockAssessmentRead = (db: Orm, traceId: string, id: string) => findAssessment(db, traceId, id, sql``);

async function findAssessment(tx: Orm, traceId: string, id: string, lock: ReturnType<typeof sql>): Promise<Obj> {
  const found = await storedAssessment(tx, traceId, id, lock);
  if (found) return found;
  // MLflow's wording, which names the trace, or says that the trace itself is missing.
  const [trace] = await rows(tx, sql`select 1 from traces where trace_id = ${traceId}`);
  throw trace ? assessmentNotFound(id, traceId) : notFound(`Trace with request_id '${traceId}' not found`);
}

async function storedAssessment(tx: Orm, traceId: string, id: string, lock: ReturnType<typeof sql>): Promise<Obj | undefined> {
  const [found] = await rows<{ body: Obj | string }>(tx, sql`select body from assessments where assessment_id = ${id} and trace_id = ${traceId}${lock}`);
  return typeof found?.body === 'string' ? (JSON.parse(found.body) as Obj) : found?.body;
}

export async function getAssessment(deps: Deps, traceId: string, id: string): Promise<Obj> {
  checkTraceId(traceId);
  return lockAssessmentRead(deps.db, traceId, id);
}

/** update_mask paths arrive as a FieldMask: a comma-separated camelCase string, or a `paths` list. */
function maskPaths(mask: unknown): string[] {
  const raw = typeof mask === 'string' ? mask.split(',') : isObj(mask) && Array.isArray(mask.paths) ? mask.paths : undefined;
  if (!raw || !raw.length) throw invalidParam("Missing value for required parameter 'update_mask'");
  return raw.map((p) => String(p).trim().replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
}

export async function updateAssessment(deps: Deps, traceId: string, id: string, patch: Obj, mask: unknown): Promise<Obj> {
  checkTraceId(traceId);
  const paths = maskPaths(mask);
  for (const p of paths) if (!UPDATABLE.has(p)) throw invalidParam(`Invalid update_mask path '${p.slice(0, 100)}'`);
  return deps.db.transaction(async (tx) => {
    const old = await lockAssessment(tx, traceId, id);
    const next: Obj = { ...old, last_update_time: protoTimestamp(deps.now()) };
    for (const p of paths) {
      if (p === 'metadata') next.metadata = { ...(isObj(old.metadata) ? old.metadata : {}), ...(isObj(patch.metadata) ? patch.metadata : {}) };
      else if (patch[p] === undefined) delete next[p];
      else next[p] = patch[p];
    }
    // An expectation and a feedback exclude each other: setting one drops the other.
    if (paths.includes('feedback')) delete next.expectation;
    if (paths.includes('expectation')) delete next.feedback;
    checkBody(next);
    await tx.execute(sql`update assessments set body = ${JSON.stringify(next)}::jsonb where assessment_id = ${id}`);
    return next;
  });
}

export async function deleteAssessment(deps: Deps, traceId: string, id: string): Promise<void> {
  checkTraceId(traceId);
  await deps.db.transaction(async (tx) => {
    // Deleting what is not there succeeds, as in MLflow: a retried delete (the client retries) is not an error.
    const old = await storedAssessment(tx, traceId, id, sql` for update`);
    if (!old) return;
    await tx.execute(sql`delete from assessments where assessment_id = ${id}`);
    // Deleting an override makes the assessment it replaced valid again, as in MLflow.
    if (typeof old.overrides === 'string') {
      await tx.execute(sql`update assessments set body = jsonb_set(body, '{valid}', 'true'::jsonb) where assessment_id = ${old.overrides} and trace_id = ${traceId}`);
    }
  });
}

/** The assessments of traces, oldest first, for their trace infos. */
export async function assessmentsOf(db: Orm, traceIds: string[], idsArray: string): Promise<Map<string, Obj[]>> {
  const out = new Map<string, Obj[]>();
  if (!traceIds.length) return out;
  const found = await rows<{ trace_id: string; body: Obj | string }>(
    db,
    sql`select trace_id, body from assessments where trace_id = any(${idsArray}::text[]) order by create_time, assessment_id`,
  );
  for (const r of found) {
    const list = out.get(r.trace_id) ?? [];
    list.push(typeof r.body === 'string' ? (JSON.parse(r.body) as Obj) : r.body);
    out.set(r.trace_id, list);
  }
  return out;
}

/**
 * Assessments logged while the trace was still open travel inside StartTraceV3's trace info, with
 * ids the client assigned: stored (or, on a retried export, replaced) in the export's transaction.
 */
export async function storeExportedAssessments(tx: Orm, traceId: string, list: unknown, now: number): Promise<void> {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) throw invalidParam("Invalid value for 'assessments': expected a list");
  for (const a of list) {
    if (!isObj(a) || typeof a.assessment_id !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(a.assessment_id)) {
      throw invalidParam('Each exported assessment needs an assessment_id');
    }
    checkBody(a);
    const body = { valid: true, ...a, trace_id: traceId };
    const written = await rows(tx, sql`
      insert into assessments (assessment_id, trace_id, body, create_time) values (${a.assessment_id}, ${traceId}, ${JSON.stringify(body)}::jsonb, ${now})
      on conflict (assessment_id) do update set body = excluded.body where assessments.trace_id = ${traceId}
      returning assessment_id`);
    // An id another trace's assessment holds: refused, as MLflow refuses it, and the export's
    // transaction stores nothing (it was dropped without a word before).
    if (!written.length) throw invalidParam(`Assessment with ID '${a.assessment_id}' belongs to another trace.`);
  }
}
