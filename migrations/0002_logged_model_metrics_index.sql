-- A logged model's metrics are the metric rows logged with its model_id (GetLoggedModel data.metrics,
-- metric filters and ordering in search_logged_models). Only linked points are indexed.
CREATE INDEX IF NOT EXISTS "metrics_model_id_idx" ON "metrics" USING btree ("model_id", "key") WHERE "model_id" IS NOT NULL;
