-- Fills latest_metrics.min_value/max_value (added by 0007) from the history of the rows that existed
-- before them; every write since keeps them. NaN is left out of both; a series of NaN only is 'NaN'.
UPDATE "latest_metrics" AS l
SET "min_value" = r.lo, "max_value" = r.hi
FROM (
  SELECT m."run_id", m."key",
         coalesce(min(m."value") FILTER (WHERE m."value" <> 'NaN'::float8), 'NaN'::float8) AS lo,
         coalesce(max(m."value") FILTER (WHERE m."value" <> 'NaN'::float8), 'NaN'::float8) AS hi
  FROM "metrics" m
  JOIN "latest_metrics" w ON w."run_id" = m."run_id" AND w."key" = m."key" AND w."min_value" IS NULL
  GROUP BY m."run_id", m."key"
) AS r
WHERE l."run_id" = r."run_id" AND l."key" = r."key";
