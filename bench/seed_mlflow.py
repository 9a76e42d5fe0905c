"""Fills an experiment of a running `mlflow server` with search_runs test runs, straight into its
database (its REST API manages about 20 runs a second here, hours for the growth sizes).

The rows are the ones MLflow itself writes for create_run + log_batch, with the same content the
bench logs into Cairn through its API (see searchRunContent in bench/scenarios.ts).

usage: python seed_mlflow.py (sqlite:///path | postgresql://...) EXPERIMENT_ID FIRST END T0
"""
import hashlib
import sys


def dataset_uuid(exp, k):
    h = hashlib.md5(f"{exp}-ds-{k}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# The 5 datasets every 10th run takes as its input (as log_inputs writes them).
def datasets(exp):
    return [(dataset_uuid(exp, k), int(exp), f"ds-{k}", f"d{k}", "local", "{}", None, None) for k in range(5)]


def rows(exp, first, end, t0):
    runs, tags, params, metrics, inputs, input_tags = [], [], [], [], [], []
    for i in range(first, end):
        run = hashlib.md5(f"{exp}-{i}".encode()).hexdigest()
        runs.append((run, f"run-{i}", "LOCAL", "", "", "bench", "RUNNING", t0 + i, None, None, "", "active",
                     f"mlflow-artifacts:/{exp}/{run}/artifacts", int(exp)))
        tags += [("mlflow.user", "bench", run), ("mlflow.source.name", "train.py", run), ("mlflow.runName", f"run-{i}", run)]
        params += [("lr", "0.001", run), ("batch_size", str(32 << (i % 4)), run), ("optimizer", "adam" if i % 2 else "sgd", run),
                   ("seed", str(i), run), ("layers", str(2 + i % 6), run)]
        for key, value in (("acc", (i * 7919 % 10007) / 10007), ("loss", (i * 104729 % 10009) / 10009), ("lr", 0.001)):
            metrics.append((key, value, t0, run, 0, False))
        if i % 10 == 0:
            input_uuid = hashlib.md5(f"{exp}-input-{i}".encode()).hexdigest()
            inputs.append((input_uuid, "DATASET", dataset_uuid(exp, (i // 10) % 5), "RUN", run, 0))
            input_tags.append((input_uuid, "mlflow.data.context", "training"))
    return runs, tags, params, metrics, inputs, input_tags


DATASET_COLUMNS = "dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source, dataset_schema, dataset_profile"
INPUT_COLUMNS = "input_uuid, source_type, source_id, destination_type, destination_id, step"
RUN_COLUMNS = "run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time, end_time, deleted_time, source_version, lifecycle_stage, artifact_uri, experiment_id"


def main():
    uri, exp, first, end, t0 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    step = 5000
    if uri.startswith("sqlite:///"):
        import sqlite3

        db = sqlite3.connect(uri[len("sqlite:///"):], timeout=60)
        ph = lambda n: "(" + ",".join("?" * n) + ")"
        with db:
            db.executemany(f"INSERT OR IGNORE INTO datasets ({DATASET_COLUMNS}) VALUES {ph(8)}", datasets(exp))
        for a in range(first, end, step):
            runs, tags, params, metrics, inputs, input_tags = rows(exp, a, min(end, a + step), t0)
            with db:
                db.executemany(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES {ph(14)}", runs)
                db.executemany(f"INSERT INTO tags (key, value, run_uuid) VALUES {ph(3)}", tags)
                db.executemany(f"INSERT INTO params (key, value, run_uuid) VALUES {ph(3)}", params)
                db.executemany(f"INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES {ph(6)}", metrics)
                db.executemany(f"INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES {ph(6)}", metrics)
                db.executemany(f"INSERT INTO inputs ({INPUT_COLUMNS}) VALUES {ph(6)}", inputs)
                db.executemany(f"INSERT INTO input_tags (input_uuid, name, value) VALUES {ph(3)}", input_tags)
        db.close()
    else:
        import psycopg2
        from psycopg2.extras import execute_values

        db = psycopg2.connect(uri.replace("postgresql+psycopg2://", "postgresql://"))
        with db, db.cursor() as cur:
            execute_values(cur, f"INSERT INTO datasets ({DATASET_COLUMNS}) VALUES %s ON CONFLICT DO NOTHING", datasets(exp))
        for a in range(first, end, step):
            runs, tags, params, metrics, inputs, input_tags = rows(exp, a, min(end, a + step), t0)
            with db, db.cursor() as cur:
                execute_values(cur, f"INSERT INTO runs ({RUN_COLUMNS}) VALUES %s", runs, page_size=1000)
                execute_values(cur, "INSERT INTO tags (key, value, run_uuid) VALUES %s", tags, page_size=1000)
                execute_values(cur, "INSERT INTO params (key, value, run_uuid) VALUES %s", params, page_size=1000)
                execute_values(cur, "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES %s", metrics, page_size=1000)
                execute_values(cur, "INSERT INTO latest_metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES %s", metrics, page_size=1000)
                if inputs:
                    execute_values(cur, f"INSERT INTO inputs ({INPUT_COLUMNS}) VALUES %s", inputs, page_size=1000)
                    execute_values(cur, "INSERT INTO input_tags (input_uuid, name, value) VALUES %s", input_tags, page_size=1000)
        db.close()


if __name__ == "__main__":
    main()
