-- Fills traces.name (added by 0027) from the `mlflow.traceName` tag rows written before it; every
-- trace writer keeps the two in step since.
UPDATE "traces" AS t
SET "name" = kv."value"
FROM "trace_tags" AS kv
WHERE kv."trace_id" = t."trace_id" AND kv."key" = 'mlflow.traceName';
