-- 100,000 runs in one experiment 'search', written the way bench/scenarios.ts's seedRunApi writes them
-- (5 params, 3 latest metrics, 3 tags, a dataset input on every 10th run), for EXPLAIN ANALYZE and
-- the search timings in docs/bench.md. Into a migrated, empty Cairn database on Postgres:
--   psql <url> -f bench/search-seed.sql
BEGIN;
INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) VALUES ('search', '/tmp/a', 0, 0);
CREATE TEMP TABLE s AS SELECT i, md5('run' || i) AS run_id, (extract(epoch from now())*1000)::bigint - 86400000 AS t0 FROM generate_series(0, 99999) i;
INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri)
  SELECT run_id, (SELECT experiment_id FROM experiments WHERE name = 'search'), 'run-' || i, '', 'RUNNING', t0 + i, '/tmp/a/' || run_id FROM s;
INSERT INTO run_tags SELECT run_id, 'mlflow.user', 'bench' FROM s;
INSERT INTO run_tags SELECT run_id, 'mlflow.source.name', 'train.py' FROM s;
INSERT INTO run_tags SELECT run_id, 'mlflow.runName', 'run-' || i FROM s;
INSERT INTO params SELECT run_id, 'lr', '0.001' FROM s;
INSERT INTO params SELECT run_id, 'batch_size', (32 << (i % 4))::text FROM s;
INSERT INTO params SELECT run_id, 'optimizer', CASE WHEN i % 2 = 1 THEN 'adam' ELSE 'sgd' END FROM s;
INSERT INTO params SELECT run_id, 'seed', i::text FROM s;
INSERT INTO params SELECT run_id, 'layers', (2 + i % 6)::text FROM s;
INSERT INTO latest_metrics (run_id, key, step, timestamp, value, min_value, max_value)
  SELECT run_id, 'acc', 0, t0, ((i::bigint * 7919) % 10007)::float8 / 10007, ((i::bigint * 7919) % 10007)::float8 / 10007, ((i::bigint * 7919) % 10007)::float8 / 10007 FROM s;
INSERT INTO latest_metrics (run_id, key, step, timestamp, value, min_value, max_value)
  SELECT run_id, 'loss', 0, t0, ((i::bigint * 104729) % 10009)::float8 / 10009, ((i::bigint * 104729) % 10009)::float8 / 10009, ((i::bigint * 104729) % 10009)::float8 / 10009 FROM s;
INSERT INTO latest_metrics (run_id, key, step, timestamp, value, min_value, max_value)
  SELECT run_id, 'lr', 0, t0, 0.001, 0.001, 0.001 FROM s;
INSERT INTO datasets (dataset_id, experiment_id, name, digest, source_type, source)
  SELECT 'ds' || k, (SELECT experiment_id FROM experiments WHERE name = 'search'), 'ds-' || k, 'd' || k, 'local', '{}' FROM generate_series(0, 4) k;
INSERT INTO run_dataset_inputs (run_id, dataset_id, tags, context)
  SELECT run_id, 'ds' || ((i / 10) % 5), '[{"key":"mlflow.data.context","value":"training"}]', 'training' FROM s WHERE i % 10 = 0;
COMMIT;
VACUUM ANALYZE;
