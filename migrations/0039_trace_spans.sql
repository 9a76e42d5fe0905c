-- Span rows for span filters (span.*, trace.text) and the spans view of trace metrics, as MLflow's
-- spans table; the spans themselves stay in traces.json (src/db/schema/traces.ts, traceSpans).
CREATE TABLE "trace_spans" (
	"trace_id" text NOT NULL,
	"span_id" text NOT NULL,
	"name" text,
	"type" text,
	"status" text NOT NULL,
	"start_ns" bigint NOT NULL,
	"end_ns" bigint,
	"model_name" text,
	"model_provider" text,
	"input_cost" double precision,
	"output_cost" double precision,
	"total_cost" double precision,
	"content" text NOT NULL,
	CONSTRAINT "trace_spans_trace_id_span_id_pk" PRIMARY KEY("trace_id","span_id")
);
--> statement-breakpoint
-- Traces stored before this have no span rows yet: false for them (the startup pass of
-- src/domain/traces/span-backfill.ts writes them from traces.json), true for every trace after.
ALTER TABLE "traces" ADD COLUMN "spans_indexed" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "traces" ALTER COLUMN "spans_indexed" SET DEFAULT true;--> statement-breakpoint
ALTER TABLE "trace_spans" ADD CONSTRAINT "trace_spans_trace_id_traces_trace_id_fk" FOREIGN KEY ("trace_id") REFERENCES "public"."traces"("trace_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "traces_spans_unindexed_idx" ON "traces" USING btree ("trace_id") WHERE NOT "traces"."spans_indexed";