"""Fills an experiment of a running `mlflow server` with search_runs test runs, straight into its
database (its REST API manages about 20 runs a second here, hours for the growth sizes).

The rows are the ones MLflow itself writes for create_run + log_batch, with the same content the
bench logs into Cairn through its API (see searchRunContent in bench/scenarios.ts).

usage: python seed_mlflow.py (sqlite:///path | postgresql://...) EXPERIMENT_ID FIRST END T0
"""
import hashlib
import sys


def rows(exp, first, end, t0):
    runs, tags, params, metrics = [], [], [], []
    for i in range(first, end):
        run = hashlib.md5(f"{exp}-{i}".encode()).hexdigest()
        runs.append((run, f"run-{i}", "LOCAL", "", "", "bench", "RUNNING", t0 + i, None, None, "", "active",
                     f"mlflow-artifacts:/{exp}/{run}/artifacts", int(exp)))
        tags += [("mlflow.user", "bench", run), ("mlflow.source.name", "train.py", run), ("mlflow.runName", f"run-{i}", run)]
        params += [("lr", "0.001", run), ("batch_size", str(32 << (i % 4)), run), ("optimizer", "adam" if i % 2 else "sgd", run),
                   ("seed", str(i), run), ("layers", str(2 + i % 6), run)]
        for key, value in (("acc", (i * 7919 % 10007) / 10007), ("loss", (i * 104729 % 10009) / 10009), ("lr", 0.001)):
            metrics.append((key, value, t0, run, 0, False))
    return runs, tags, params, metrics


RUN_COLUMNS = "run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, deleted_time, source_version, lifecycle_stage, artifact_uri, experiment_id"


def main():
    uri, exp, first, end, t0 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    step = 5000
    if uri.startswith("sqlite:///"):
        import sqlite3

        db = sqlite3.connect(uri[len("sqlite:///"):], timeout=60)
        ph = lambda n: "(" + ",".join("?" * n) + ")"
        for a in range(first, end, step):
            runs, tags, params, metrics = rows(exp, a, min(end, a + step), t0)
            with db:
                db.executemany(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES {ph(14)}", runs)
                db.executemany(f"INSERT INTO tags (key, value, run_uuid) VALUES {ph(3)}", tags)
                db.executemany(f"INSERT INTO params (key, value, run_uuid) VALUES {ph(3)}", params)
                db.executemany(f"INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES {ph(6)}", metrics)
                db.executemany(f"INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES {ph(6)}", metrics)
        db.close()
    else:
        import psycopg2
        from psycopg2.extras import execute_values

        db = psycopg2.connect(uri.replace("postgresql+psycopg2://", "postgresql://"))
        for a in range(first, end, step):
            runs, tags, params, metrics = rows(exp, a, min(end, a + step), t0)
            with db, db.cursor() as cur:
                execute_values(cur, f"INSERT INTO runs ({RUN_COLUMNS}) VALUES %s", runs, page_size=1000)
                execute_values(cur, "INSERT INTO tags (key, value, run_uuid) VALUES %s", tags, page_size=1000)
                execute_values(cur, "INSERT INTO params (key, value, run_uuid) VALUES %s", params, page_size=1000)
                execute_values(cur, "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES %s", metrics, page_size=1000)
                execute_values(cur, "INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES %s", metrics, page_size=1000)
        db.close()


if __name__ == "__main__":
    main()
