import { z } from '@hono/zod-openapi';
import { getTraceInfo, searchTraces, searchTracesJson } from '../../domain/traces/read.js';
import { deleteTraces, deleteTraceTag, experimentOfLocation, setTraceTag, startTrace } from '../../domain/traces/write.js';
import { batchGetTraceInfos, batchGetTraces, getTraceWithSpans, linkTracesToRun, MAX_BATCH_GET } from '../../domain/traces/spans.js';
import { linkPromptsToTrace, MAX_PROMPT_LINKS, traceFilterCorrelation } from '../../domain/traces/prompt-links.js';
import { traceInfoV2 } from '../../domain/traces/wire.js';
import { bool, int64, repeated, requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { definePathRoute } from '../registry/path-route.js';
import { empty } from './schemas.js';
import { traceInfoV2Out } from './traces-v2.js';

// MLflow 3 tracing, the way the 3.18 client exports a trace to an HTTP tracking server: StartTraceV3
// stores the trace's info and answers where its spans go (the `mlflow.artifactLocation` tag); the
// client then uploads them as `traces.json` through the artifact proxy, and reads them back from there.

const tag = 'Traces';
const anyObject = z.object({}).passthrough();
const traceInfoOut = anyObject.openapi('TraceInfoV3');
const traceOut = z.object({ trace: z.object({ trace_info: traceInfoOut }) });
const kv = { key: requiredString, value: z.string().default('') };
// The header c.json sets.
const JSON_CONTENT = { 'Content-Type': 'application/json' };

export function traceRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/mlflow/traces', version: '3.0', access: 'experiment:edit', tag,
    summary: 'Store a finished trace (StartTraceV3); the answer names where to upload its spans',
    input: z.object({ trace: z.object({ trace_info: anyObject }) }),
    output: traceOut,
    handle: async (deps, input) => ({ trace: { trace_info: await startTrace(deps, input.trace.trace_info) } }),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/traces/search', version: '3.0', access: 'experiment:read', tag,
    summary: 'Search traces of experiments (filter, order_by, paging); newest first by default',
    input: z.object({
      locations: z.array(anyObject).refine((v) => v.length > 0, 'Missing value'),
      filter: z.string().optional(),
      max_results: int64.optional(),
      order_by: repeated(z.string()).optional(),
      page_token: z.string().optional(),
    }),
    output: z.object({ traces: z.array(traceInfoOut).optional(), next_page_token: z.string().optional() }),
    // The answer is built as JSON text (no traces is `{}`, as the real server answers): the same
    // bytes c.json would write for searchTraces' result, without a page of objects in between.
    handle: async (deps, input, c) =>
      c.body(await searchTracesJson(deps, { ...input, experimentIds: input.locations.map(experimentOfLocation) }), undefined, JSON_CONTENT),
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/traces', access: 'experiment:read', tag,
    summary: 'Search traces, MLflow 2 shape (MLflow UI); same filters and order as the v3 search',
    input: z.object({
      experiment_ids: repeated(z.string()).refine((v) => v.length > 0, 'Missing value'),
      filter: z.string().optional(),
      max_results: int64.optional(),
      order_by: repeated(z.string()).optional(),
      page_token: z.string().optional(),
    }),
    output: z.object({ traces: z.array(traceInfoV2Out).optional(), next_page_token: z.string().optional() }),
    handle: async (deps, input) => {
      const found = await searchTraces(deps, { ...input, experimentIds: input.experiment_ids });
      const traces = found.traces.map(traceInfoV2);
      return { ...(traces.length ? { traces } : {}), ...(found.next_page_token ? { next_page_token: found.next_page_token } : {}) };
    },
  });
  const deleteInput = z.object({
    experiment_id: requiredString,
    max_timestamp_millis: int64.optional(),
    max_traces: int64.optional(),
    request_ids: repeated(z.string()).optional(),
  });
  for (const version of ['2.0', '3.0'] as const) {
    defineRoute(r, {
      method: 'post', path: '/mlflow/traces/delete-traces', version, access: 'experiment:manage', tag,
      summary: 'Delete traces by id, or the oldest before a time; their spans are deleted from the store',
      input: deleteInput,
      output: z.object({ traces_deleted: z.number() }),
      handle: async (deps, input) => ({ traces_deleted: await deleteTraces(deps, input) }),
    });
  }
  // Registered before `/traces/{trace_id}`, which would otherwise take "get" and "batchGet" for ids.
  defineRoute(r, {
    method: 'get', path: '/mlflow/traces/get', version: '3.0', access: 'experiment:read', tag,
    summary: "Get a trace with its spans (OpenTelemetry Span protos, read from the trace's traces.json)",
    input: z.object({ trace_id: requiredString, allow_partial: bool.optional() }),
    output: z.object({ trace: z.object({ trace_info: traceInfoOut, spans: z.array(anyObject) }) }),
    handle: async (deps, input) => ({ trace: await getTraceWithSpans(deps, input.trace_id) }),
  });
  const batchInput = z.object({ trace_ids: repeated(z.string()), experiment_ids: repeated(z.string()).optional() });
  defineRoute(r, {
    method: 'get', path: '/mlflow/traces/batchGet', version: '3.0', access: 'experiment:read', tag,
    summary: `Get up to ${MAX_BATCH_GET} traces with their spans; unknown ids are left out`,
    input: batchInput,
    output: z.object({ traces: z.array(anyObject).optional() }),
    handle: async (deps, input) => {
      const traces = await batchGetTraces(deps, input.trace_ids, input.experiment_ids);
      return traces.length ? { traces } : {};
    },
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/traces/batchGetInfos', version: '3.0', access: 'experiment:read', tag,
    summary: `Get up to ${MAX_BATCH_GET} trace infos (no spans); unknown ids are left out`,
    input: batchInput,
    output: z.object({ trace_infos: z.array(traceInfoOut).optional() }),
    handle: async (deps, input) => {
      const infos = await batchGetTraceInfos(deps, input.trace_ids, input.experiment_ids);
      return infos.length ? { trace_infos: infos } : {};
    },
  });
  // The 3.18 client posts it under /api/2.0; the proto declares it for both prefixes.
  for (const version of ['2.0', '3.0'] as const) {
    defineRoute(r, {
      method: 'post', path: '/mlflow/traces/link-to-run', version, access: 'experiment:edit', tag,
      summary: 'Link up to 100 traces to a run, so search_traces(run_id=…) finds them',
      input: z.object({ trace_ids: repeated(z.string()).default([]), run_id: requiredString }),
      output: empty,
      handle: async (deps, input) => {
        await linkTracesToRun(deps, input.trace_ids, input.run_id);
        return {};
      },
    });
  }
  for (const version of ['2.0', '3.0'] as const) {
    defineRoute(r, {
      method: 'post', path: '/mlflow/traces/link-prompts', version, access: 'experiment:edit', tag,
      summary: `Record up to ${MAX_PROMPT_LINKS} prompt versions a trace used, so search_traces("prompt = 'name/version'") finds it`,
      input: z.object({
        trace_id: requiredString,
        prompt_versions: z.array(z.object({ name: z.string().optional(), version: z.string().optional() })),
      }),
      output: empty,
      handle: async (deps, input) => {
        await linkPromptsToTrace(deps, input.trace_id, input.prompt_versions);
        return {};
      },
    });
  }
  defineRoute(r, {
    method: 'post', path: '/mlflow/traces/calculate-filter-correlation', version: '3.0', access: 'experiment:read', tag,
    summary: 'How strongly two trace filters co-occur in experiments (NPMI, unsmoothed and smoothed, with the counts)',
    input: z.object({
      experiment_ids: repeated(z.string()),
      filter_string1: requiredString,
      filter_string2: requiredString,
      base_filter: z.string().optional(),
    }),
    output: z.object({
      npmi: z.number().optional(), npmi_smoothed: z.number().optional(),
      filter1_count: z.number(), filter2_count: z.number(), joint_count: z.number(), total_count: z.number(),
    }),
    handle: (deps, input) => traceFilterCorrelation(deps, input),
  });
  definePathRoute(r, {
    method: 'get', path: '/mlflow/traces/{trace_id}', version: '3.0', access: 'experiment:read', tag,
    summary: "Get a trace's info (its spans are the traces.json at its artifact location)",
    input: z.object({ trace_id: requiredString }),
    output: traceOut,
    handle: async (deps, input) => ({ trace: { trace_info: await getTraceInfo(deps, input.trace_id) } }),
  });
  // The client sets and deletes tags on the v2 path; the v3 one exists in the proto too.
  for (const [version, id] of [['2.0', 'request_id'], ['3.0', 'trace_id']] as const) {
    const path = `/mlflow/traces/{${id}}/tags`;
    definePathRoute(r, {
      method: 'patch', path, version, access: 'experiment:edit', tag, summary: 'Set a trace tag',
      input: z.object({ [id]: requiredString, ...kv }),
      output: empty,
      handle: async (deps, input) => {
        await setTraceTag(deps, String((input as Record<string, unknown>)[id]), input.key, input.value);
        return {};
      },
    });
    definePathRoute(r, {
      method: 'delete', path, version, access: 'experiment:edit', tag, summary: 'Delete a trace tag',
      input: z.object({ [id]: requiredString, key: requiredString }),
      output: empty,
      handle: async (deps, input) => {
        await deleteTraceTag(deps, String((input as Record<string, unknown>)[id]), input.key);
        return {};
      },
    });
  }
}
