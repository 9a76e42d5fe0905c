-- The traces holding a user or session metadata key, by experiment, that value's first 200 characters
-- and time: a search for one user's traces reads them newest first and stops at the page's end,
-- instead of joining each of that user's trace_metadata rows back to its trace (docs/tracing.md).
-- The value is read from the row's metadata text (kept in step by 0035's triggers and the writers).
CREATE INDEX "traces_experiment_user_idx" ON "traces" USING btree ("experiment_id",left((metadata_json::jsonb ->> 'mlflow.trace.user'), 200),"request_time" DESC NULLS LAST,"trace_id") WHERE metadata_json LIKE '%"mlflow.trace.user":%';--> statement-breakpoint
CREATE INDEX "traces_experiment_session_idx" ON "traces" USING btree ("experiment_id",left((metadata_json::jsonb ->> 'mlflow.trace.session'), 200),"request_time" DESC NULLS LAST,"trace_id") WHERE metadata_json LIKE '%"mlflow.trace.session":%';