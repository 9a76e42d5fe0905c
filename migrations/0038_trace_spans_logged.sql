-- Where a trace's spans and info came from: spans merged span by span (OTLP, the mlflow client's own
-- export included) make its answers name the tracking store as the spans' location, and a client's
-- StartTraceV3 makes its info final, so spans merged later leave it (docs/tracing.md). Rows stored
-- before this keep false: nothing sends them spans one by one again.
ALTER TABLE "traces" ADD COLUMN "spans_logged" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "info_final" boolean DEFAULT false NOT NULL;