"""Writes metric points into a `mlflow server`'s database, for the UI benchmark (bench/ui.mjs).

The UI bench logs millions of points; MLflow's log-batch manages about 10,000-15,000 points a second
here (bench/README.md), so its runs and params are created through its REST API and only the points
go straight into its tables: the rows MLflow's own log_batch writes (`metrics`, and `latest_metrics`
with the greatest (step, timestamp, value) per run and key, as MLflow keeps it).

usage: python seed_mlflow_metrics.py (sqlite:///path | postgresql://...) < points.tsv
points.tsv: one point a line, run_uuid<TAB>key<TAB>step<TAB>timestamp<TAB>value
"""
import io
import sys


CHUNK = 100_000


def chunks(latest):
    """The points of stdin, CHUNK at a time as MLflow's metrics rows; keeps each series' latest point."""
    rows = []
    for line in sys.stdin:
        run, key, step, ts, value = line.rstrip("\n").split("\t")
        point = (int(step), int(ts), float(value))
        rows.append((key, point[2], point[1], run, point[0], False))
        if point > latest.get((run, key), (-1, -1, float("-inf"))):
            latest[(run, key)] = point
        if len(rows) == CHUNK:
            yield rows
            rows = []
    if rows:
        yield rows


def main():
    uri = sys.argv[1]
    latest = {}
    latest_rows = lambda: [(key, v, ts, run, step, False) for (run, key), (step, ts, v) in latest.items()]
    if uri.startswith("sqlite:///"):
        import sqlite3

        db = sqlite3.connect(uri[len("sqlite:///"):], timeout=60)
        with db:
            for rows in chunks(latest):
                db.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", rows)
            db.executemany("INSERT OR REPLACE INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?,?,?,?,?,?)", latest_rows())
        db.close()
    else:
        import psycopg2
        from psycopg2.extras import execute_values

        db = psycopg2.connect(uri.replace("postgresql+psycopg2://", "postgresql://"))
        with db, db.cursor() as cur:
            for rows in chunks(latest):
                buf = io.StringIO("".join(f"{k}\t{v!r}\t{ts}\t{run}\t{step}\tf\n" for k, v, ts, run, step, _ in rows))
                cur.copy_expert("COPY metrics (key, value, timestamp, run_uuid, step, is_nan) FROM STDIN", buf)
            execute_values(
                cur,
                "INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES %s "
                "ON CONFLICT (key, run_uuid) DO UPDATE SET value = EXCLUDED.value, timestamp = EXCLUDED.timestamp, step = EXCLUDED.step",
                latest_rows(),
            )
        db.close()


if __name__ == "__main__":
    main()
