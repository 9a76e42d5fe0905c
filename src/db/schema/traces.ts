import { sql } from 'drizzle-orm';
import { bigint, boolean, doublePrecision, index, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { experiments } from './experiments.js';
import { runs } from './runs.js';

/**
 * The metadata keys the client sets for a trace's user and session (TraceMetadataKey.TRACE_USER,
 * TRACE_SESSION), which the UI's and most searches' filters name: each has a partial index of the
 * trace rows holding it (below), so `=` and `IN` on one read a user's traces in time order.
 */
export const INDEXED_METADATA_KEYS = ['mlflow.trace.user', 'mlflow.trace.session'] as const;

// MLflow 3 traces (TraceInfoV3). Only the trace's summary lives here; its spans are the
// `traces.json` the client uploads to the blob store under the trace's artifact location, so a row
// stays small whatever the size of the inputs and outputs it recorded.
export const traces = pgTable(
  'traces',
  {
    traceId: text('trace_id').primaryKey(),
    experimentId: bigint('experiment_id', { mode: 'number' })
      .notNull()
      .references(() => experiments.experimentId, { onDelete: 'cascade' }),
    clientRequestId: text('client_request_id'),
    /** Epoch milliseconds (the wire's Timestamp, rounded). */
    requestTime: bigint('request_time', { mode: 'number' }).notNull(),
    /** Milliseconds; null while a trace is IN_PROGRESS without one. */
    executionDuration: bigint('execution_duration', { mode: 'number' }),
    /** OK | ERROR | IN_PROGRESS | STATE_UNSPECIFIED */
    state: text('state').notNull(),
    requestPreview: text('request_preview'),
    responsePreview: text('response_preview'),
    artifactLocation: text('artifact_location').notNull(),
    /**
     * The `mlflow.traceName` tag's value (null without one), kept in step with that tag row by every
     * writer: the name filter (`name = …`, the UI's usual one) then reads the trace row alone instead
     * of probing a tag index and joining back for the time order.
     */
    name: text('name'),
    /**
     * The trace's tags (but the artifact location, which is artifact_location) and metadata as the
     * text of one compact JSON object each (keys in byte order; null for none), kept by triggers on
     * trace_tags and trace_metadata (migrations/0035): a page of 100 traces then reads its rows
     * alone, where aggregating the key-value rows of each trace was 90% of the search's time in
     * Postgres, and its answer is joined from them (src/domain/traces/read.ts, infoJson).
     */
    tagsJson: text('tags_json'),
    metadataJson: text('metadata_json'),
    /**
     * Some of the trace's spans arrived span by span (POST /v1/traces, merged into its traces.json):
     * its answers carry `mlflow.trace.spansLocation = TRACKING_STORE`, as MLflow's server sets it for
     * logged spans, so the mlflow client that sent them does not upload traces.json as well.
     */
    spansLogged: boolean('spans_logged').notNull().default(false),
    /**
     * StartTraceV3 stored the client's own info (time, duration, state, previews, name): spans merged
     * later add spans but leave it, as MLflow's `mlflow.trace.infoFinalized`.
     */
    infoFinal: boolean('info_final').notNull().default(false),
    /**
     * The trace's span rows (trace_spans) are written. True for every trace stored since migration
     * 0039, whose writers keep them; false for those stored before it, until the startup pass of
     * src/domain/traces/span-backfill.ts has read their traces.json.
     */
    spansIndexed: boolean('spans_indexed').notNull().default(true),
  },
  // search_traces' natural order is request time DESC (then trace id) within an experiment: each
  // index ends with it, so a page is read in order and stops at its last row, for the default
  // listing and time ranges, a state filter, and the order by execution time DESC (the UI's
  // "slowest first"), and a name (its first 200 characters: a name runs to 8000, past a btree
  // entry's limit; src/domain/search/traces-sql.ts compares the whole name when it must).
  (t) => [
    index('traces_experiment_time_idx').on(t.experimentId, t.requestTime.desc(), t.traceId),
    index('traces_experiment_state_idx').on(t.experimentId, t.state, t.requestTime.desc(), t.traceId),
    index('traces_experiment_duration_idx').on(t.experimentId, t.executionDuration.desc().nullsLast(), t.requestTime.desc(), t.traceId),
    index('traces_experiment_name_idx').on(t.experimentId, sql`left(${t.name}, 200)`, t.requestTime.desc(), t.traceId),
    // The user and session metadata (INDEXED_METADATA_KEYS), read from the row's metadata text: the
    // traces of one user, newest first, without a join (src/domain/search/traces-sql.ts).
    ...INDEXED_METADATA_KEYS.map((key) =>
      index(`traces_experiment_${key.split('.').at(-1)}_idx`)
        .on(t.experimentId, sql.raw(`left((metadata_json::jsonb ->> '${key}'), 200)`), t.requestTime.desc(), t.traceId)
        .where(sql.raw(`metadata_json LIKE '%"${key}":%'`)),
    ),
    index('traces_spans_unindexed_idx').on(t.traceId).where(sql`NOT ${t.spansIndexed}`),
  ],
);

export const traceTags = pgTable(
  'trace_tags',
  {
    traceId: text('trace_id')
      .notNull()
      .references(() => traces.traceId, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  // Values run to 8000 characters, past a btree entry's limit, so the value index holds their first
  // 200 characters: `tags.k = 'v'` / `IN` look up (key, left(value, 200)) (src/domain/search/traces-sql.ts),
  // so a rare tag over 100k traces is an index lookup, not a scan. (Postgres reads the rows too: it
  // does not answer from an expression index alone.)
  (t) => [primaryKey({ columns: [t.traceId, t.key] }), index('trace_tags_key_value_idx').on(t.key, sql`left(${t.value}, 200)`)],
);

/** trace_metadata (request metadata): immutable after the trace is written, e.g. mlflow.sourceRun. */
export const traceMetadata = pgTable(
  'trace_metadata',
  {
    traceId: text('trace_id')
      .notNull()
      .references(() => traces.traceId, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    value: text('value').notNull(),
  },
  // As trace_tags' value index.
  (t) => [primaryKey({ columns: [t.traceId, t.key] }), index('trace_metadata_key_value_idx').on(t.key, sql`left(${t.value}, 200)`)],
);

/**
 * Assessments (feedback and expectations) on a trace, kept as the client's proto JSON: the server
 * only reads their ids, the trace and `valid` (cleared when an override replaces one).
 */
export const assessments = pgTable(
  'assessments',
  {
    assessmentId: text('assessment_id').primaryKey(),
    traceId: text('trace_id')
      .notNull()
      .references(() => traces.traceId, { onDelete: 'cascade' }),
    body: jsonb('body').notNull(),
    createTime: bigint('create_time', { mode: 'number' }).notNull(),
  },
  (t) => [index('assessments_trace_idx').on(t.traceId, t.createTime)],
);

/**
 * Traces linked to a run after the fact (LinkTracesToRun), besides the run a trace was logged in
 * (its `mlflow.sourceRun` metadata): `search_traces(run_id=…)` finds both.
 */
export const traceRunLinks = pgTable(
  'trace_run_links',
  {
    traceId: text('trace_id')
      .notNull()
      .references(() => traces.traceId, { onDelete: 'cascade' }),
    runId: text('run_id')
      .notNull()
      .references(() => runs.runId, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.traceId, t.runId] }), index('trace_run_links_run_idx').on(t.runId)],
);

/**
 * Prompt versions used inside a trace (LinkPromptsToTrace, sent by the client after exporting a
 * trace that loaded a prompt), as `name/version`: `search_traces(filter_string="prompt = 'name/1'")`.
 */
export const tracePromptLinks = pgTable(
  'trace_prompt_links',
  {
    traceId: text('trace_id')
      .notNull()
      .references(() => traces.traceId, { onDelete: 'cascade' }),
    prompt: text('prompt').notNull(),
  },
  (t) => [primaryKey({ columns: [t.traceId, t.prompt] }), index('trace_prompt_links_prompt_idx').on(t.prompt)],
);

/**
 * A row per span of a trace whose spans reached Cairn (OTLP merges, traces.json uploads through the
 * proxy): what `span.*` / `trace.text` filters and the spans view of trace metrics read, as MLflow's
 * `spans` table. The spans themselves stay in the trace's traces.json; `content` is the span's JSON
 * as MLflow's server writes it (Python's separators, non-ASCII unescaped), for LIKE searches.
 * Only the primary key is indexed: every read reaches spans from their trace (an EXISTS per trace,
 * or a join from the traces of a time range), and each index more is a write more per span ingested.
 */
export const traceSpans = pgTable(
  'trace_spans',
  {
    traceId: text('trace_id')
      .notNull()
      .references(() => traces.traceId, { onDelete: 'cascade' }),
    spanId: text('span_id').notNull(),
    name: text('name'),
    /** `mlflow.spanType` decoded (LLM, TOOL, ...); null without one. */
    type: text('type'),
    /** OK | ERROR | UNSET */
    status: text('status').notNull(),
    startNs: bigint('start_ns', { mode: 'bigint' }).notNull(),
    endNs: bigint('end_ns', { mode: 'bigint' }),
    /** `mlflow.llm.model` / `mlflow.llm.provider` decoded, at most 500 characters (MLflow's bound). */
    modelName: text('model_name'),
    modelProvider: text('model_provider'),
    /** From `mlflow.llm.cost` (the client's estimate), when finite. */
    inputCost: doublePrecision('input_cost'),
    outputCost: doublePrecision('output_cost'),
    totalCost: doublePrecision('total_cost'),
    content: text('content').notNull(),
  },
  (t) => [primaryKey({ columns: [t.traceId, t.spanId] })],
);
