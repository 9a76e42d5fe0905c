"""Fills an experiment with search_traces test traces straight into a server's database: `mlflow
server`'s (its REST and OTLP paths manage a few dozen traces a second here, about an hour for 100k)
or Cairn's, with the same content, so bench/traces.ts's searches compare like with like.

For MLflow the rows are the ones its store's start_trace writes (mlflow 3.18,
store/tracking/dbmodels/models.py): a `trace_info` row (the trace name in its `trace_name` column,
not as a tag), `trace_tags` (the user tags and `mlflow.artifactLocation`) and
`trace_request_metadata` (the client's metadata and `mlflow.trace.infoFinalized`). Not written:
spans (search_traces reads trace_info, trace_tags, trace_request_metadata and assessments only;
span rows matter only to `span.*` filters, which the bench does not use) and the analytics rollup
queue (no search reads it). For Cairn: `traces` (the artifact location and the name in their
columns), `trace_tags` (`mlflow.traceName`, which Cairn keeps beside the column, and the user tags)
and `trace_metadata`.

Trace i (0-based): id tr-md5("bench-trace-i"), request time T0 + i seconds, execution time
5 + (i * 7919 mod 9973) ms, state ERROR for every 10th else OK, name agent-(i mod 50), tags env (one
of 3) and customer (one of 1000), metadata mlflow.trace.user (one of 100) and the client's usual
user / source / schema-version keys.

usage: python seed_mlflow_traces.py (mlflow|cairn) postgresql://... EXPERIMENT_ID FIRST END T0
"""
import hashlib
import sys

ENVS = ("prod", "staging", "dev")


def trace(i, t0):
    trace_id = "tr-" + hashlib.md5(f"bench-trace-{i}".encode()).hexdigest()
    return {
        "id": trace_id,
        "time": t0 + i * 1000,
        "duration": 5 + (i * 7919) % 9973,
        "state": "ERROR" if i % 10 == 0 else "OK",
        "name": f"agent-{i % 50}",
        "request_preview": '{"question": "q%d"}' % i,
        "response_preview": '"an answer"',
        "tags": {"env": ENVS[i % 3], "customer": f"c-{i % 1000}"},
        "metadata": {
            "mlflow.trace_schema.version": "3",
            "mlflow.user": "bench",
            "mlflow.source.name": "agent.py",
            "mlflow.source.type": "LOCAL",
            "mlflow.trace.user": f"user-{i % 100}",
        },
    }


def mlflow_rows(exp, artifact_root, first, end, t0):
    infos, tags, metadata = [], [], []
    for i in range(first, end):
        t = trace(i, t0)
        infos.append((t["id"], int(exp), t["time"], t["duration"], t["state"], None, t["request_preview"], t["response_preview"], 0, t["name"]))
        tags += [(k, v, t["id"]) for k, v in t["tags"].items()]
        tags.append(("mlflow.artifactLocation", f"{artifact_root.rstrip('/')}/traces/{t['id']}/artifacts", t["id"]))
        metadata += [(k, v, t["id"]) for k, v in sorted({**t["metadata"], "mlflow.trace.infoFinalized": "true"}.items())]
    return [
        ("INSERT INTO trace_info (request_id, experiment_id, timestamp_ms, execution_time_ms, status, client_request_id, "
         "request_preview, response_preview, db_payload_generation, trace_name) VALUES %s", infos),
        ("INSERT INTO trace_tags (key, value, request_id) VALUES %s", tags),
        ("INSERT INTO trace_request_metadata (key, value, request_id) VALUES %s", metadata),
    ]


def cairn_rows(exp, artifact_root, first, end, t0):
    infos, tags, metadata = [], [], []
    for i in range(first, end):
        t = trace(i, t0)
        infos.append((t["id"], int(exp), None, t["time"], t["duration"], t["state"], t["request_preview"], t["response_preview"],
                      f"{artifact_root.rstrip('/')}/traces/{t['id']}/artifacts", t["name"]))
        tags += [(t["id"], k, v) for k, v in {"mlflow.traceName": t["name"], **t["tags"]}.items()]
        metadata += [(t["id"], k, v) for k, v in t["metadata"].items()]
    return [
        ("INSERT INTO traces (trace_id, experiment_id, client_request_id, request_time, execution_duration, state, "
         "request_preview, response_preview, artifact_location, name) VALUES %s", infos),
        ("INSERT INTO trace_tags (trace_id, key, value) VALUES %s", tags),
        ("INSERT INTO trace_metadata (trace_id, key, value) VALUES %s", metadata),
    ]


def main():
    target, uri, exp, first, end, t0 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    if target not in ("mlflow", "cairn"):
        sys.exit("target must be mlflow or cairn")
    import psycopg2
    from psycopg2.extras import execute_values

    db = psycopg2.connect(uri.replace("postgresql+psycopg2://", "postgresql://"))
    with db, db.cursor() as cur:
        cur.execute("SELECT artifact_location FROM experiments WHERE experiment_id = %s", (int(exp),))
        found = cur.fetchone()
    if not found:
        sys.exit(f"no experiment {exp}")
    rows = mlflow_rows if target == "mlflow" else cairn_rows
    step = 5000
    for a in range(first, end, step):
        with db, db.cursor() as cur:
            for statement, values in rows(exp, found[0], a, min(end, a + step), t0):
                execute_values(cur, statement, values, page_size=1000)
    db.close()


if __name__ == "__main__":
    main()
