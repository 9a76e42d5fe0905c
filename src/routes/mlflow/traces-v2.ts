import { z } from '@hono/zod-openapi';
import { endTraceV2, getTraceInfoV2, startTraceV2, V2_END_STATUSES, type V2EndStatus } from '../../domain/traces/v2.js';
import { MAX_TIMESTAMP_MS } from '../../domain/traces/wire.js';
import { int64, keyValue, requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { definePathRoute } from '../registry/path-route.js';

// The MLflow 2 trace lifecycle under /api/2.0 (StartTrace, EndTrace, GetTraceInfo), which
// `mlflow server` 3.18 still serves: the 3.18 client calls them only as a fallback
// (RestStore.deprecated_start_trace_v2 / deprecated_end_trace_v2), older clients always. The v2
// search, tag and delete calls are in traces.ts beside their v3 twins.

const tag = 'Traces';
const pair = z.object({ key: z.string(), value: z.string() });

export const traceInfoV2Out = z
  .object({
    request_id: z.string(),
    experiment_id: z.string(),
    timestamp_ms: z.number().int(),
    execution_time_ms: z.number().int(),
    status: z.enum(['TRACE_STATUS_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS']),
    request_metadata: z.array(pair).optional(),
    tags: z.array(pair).optional(),
  })
  .openapi('TraceInfoV2');
const infoOut = z.object({ trace_info: traceInfoV2Out });

const timestampMs = int64.refine((v) => v >= 0 && v <= MAX_TIMESTAMP_MS, `a timestamp is between 0 and ${MAX_TIMESTAMP_MS} (year 9999)`);
const STATUS_BY_NUMBER: Record<number, V2EndStatus> = { 1: 'OK', 2: 'ERROR', 3: 'IN_PROGRESS' };
// A name or the enum's number, as proto JSON allows. TRACE_STATUS_UNSPECIFIED (and an unknown
// name, which MLflow's parser reads as it) makes MLflow's server fail with a 500; here it is a 400.
const endStatus = z
  .union([z.string(), z.number()])
  .transform((v, ctx): V2EndStatus => {
    const status = typeof v === 'number' ? STATUS_BY_NUMBER[v] : (V2_END_STATUSES as readonly string[]).includes(v) ? (v as V2EndStatus) : undefined;
    if (status) return status;
    ctx.addIssue({ code: 'custom', message: `valid statuses are ${V2_END_STATUSES.join(', ')}` });
    return z.NEVER;
  })
  .openapi({ type: 'string', enum: [...V2_END_STATUSES] });

export function traceV2Routes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/mlflow/traces', access: 'experiment:edit', tag,
    summary: 'Start a trace, MLflow 2 API (StartTrace): an IN_PROGRESS trace with a server-chosen request_id',
    input: z.object({
      experiment_id: requiredString,
      timestamp_ms: timestampMs.optional(),
      request_metadata: z.array(keyValue).optional(),
      tags: z.array(keyValue).optional(),
    }),
    output: infoOut,
    handle: async (deps, input) => ({ trace_info: await startTraceV2(deps, input) }),
  });
  definePathRoute(r, {
    method: 'patch', path: '/mlflow/traces/{request_id}', access: 'experiment:edit', tag,
    summary: 'End a trace, MLflow 2 API (EndTrace): status, execution time (end - start), metadata and tags merged',
    input: z.object({
      request_id: requiredString,
      timestamp_ms: timestampMs,
      status: endStatus,
      request_metadata: z.array(keyValue).optional(),
      tags: z.array(keyValue).optional(),
    }),
    output: infoOut,
    handle: async (deps, input) => ({ trace_info: await endTraceV2(deps, input.request_id, input) }),
  });
  definePathRoute(r, {
    method: 'get', path: '/mlflow/traces/{request_id}/info', access: 'experiment:read', tag,
    summary: "Get a trace's info, MLflow 2 shape (GetTraceInfo)",
    input: z.object({ request_id: requiredString }),
    output: infoOut,
    handle: async (deps, input) => ({ trace_info: await getTraceInfoV2(deps, input.request_id) }),
  });
}
