"""W&B Artifacts beyond the basic flow, with the real wandb==0.31.0 client, once with Cairn on the
local folder and once on S3 (the `store` fixture): references (file://, http://, s3://) and their
download, tables and media logged with run.log (automatic run_table artifacts read back with
.get), log_model / use_model / link_model into the model registry, offline runs synced with
`wandb sync`, artifact.files(), and the client's errors for bad names and unreachable references."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from test_wandb import REPO, make_wandb_env, project_name, run_python, wandb_cli

ENTITY = "compat"
_keys: dict[str, str] = {}


def _key(server) -> str:
    """A W&B key for `server`, made with the CLI against its own database (once per server)."""
    if server.url not in _keys:
        out = subprocess.run(
            [
                "node", str(REPO / "bin" / "cairn.js"), "keys", "create", "--user", ENTITY,
                "--backend-store-uri", server.backend_store_uri, "--data-dir", str(server.workdir),
            ],
            cwd=REPO, capture_output=True, text=True, timeout=120,
            env={k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
        )
        assert out.returncode == 0, out.stderr
        _keys[server.url] = out.stdout.strip()
    return _keys[server.url]


def _env(tmp_path, server, s3=None) -> dict[str, str]:
    env = make_wandb_env(tmp_path, server.url, _key(server))
    if s3 is not None:  # the client reads s3:// references itself, with its own credentials
        env.update(s3.env)
        env["AWS_ENDPOINT_URL"] = s3.endpoint
    return env


def _run(tmp_path, env, code, *args) -> dict:
    out = tmp_path / f"out-{len(list(tmp_path.glob('out-*')))}.json"
    proc = run_python(tmp_path, env, code, *args, str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


REFERENCES = """
    import functools, http.server, json, os, sys, threading
    import boto3, wandb
    project, bucket, out = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs("served", exist_ok=True)
    open("served/h.txt", "w").write("over http\\n")
    open("local.txt", "w").write("local reference\\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory="served")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    boto3.client("s3").put_object(Bucket=bucket, Key=f"{project}/r.txt", Body=b"in s3\\n")
    result = {}
    run = wandb.init(project=project, name="producer")
    art = wandb.Artifact("refs", type="dataset")
    art.add_reference("file://" + os.path.abspath("local.txt"))
    art.add_reference(f"{base}/h.txt")
    art.add_reference(f"s3://{bucket}/{project}/r.txt")
    art.add_file("local.txt", name="stored.txt")
    run.log_artifact(art).wait()
    result["version"] = art.version
    # A reference the client cannot reach is its own error, raised before anything is logged.
    bad = wandb.Artifact("unreachable", type="dataset")
    try:
        bad.add_reference(f"{base}/missing.txt")
        result["missing"] = "added"
    except Exception as e:
        result["missing"] = f"{type(e).__name__}: {e}"
    run.finish()

    run = wandb.init(project=project, name="consumer")
    a = run.use_artifact("refs:latest")
    result["entries"] = {p: e.ref for p, e in sorted(a.manifest.entries.items())}
    root = a.download(root="dl")
    result["files"] = {n: open(os.path.join(root, n)).read() for n in sorted(os.listdir(root))}
    result["listed"] = sorted((f.name, f.size) for f in a.files())
    run.finish()
    try:
        wandb.Api().artifact(f"compat/{project}/unreachable:latest")
        result["unreachable_logged"] = True
    except Exception:
        result["unreachable_logged"] = False
    json.dump(result, open(out, "w"))
"""


def test_references_are_logged_and_downloaded_by_the_client(tmp_path, store, s3):
    project = project_name("artrefs")
    got = _run(tmp_path, _env(tmp_path, store, s3), REFERENCES, project, s3.bucket)
    assert got["version"] == "v0"
    assert got["entries"]["local.txt"].startswith("file://")
    assert got["entries"]["h.txt"].startswith("http://127.0.0.1:")
    assert got["entries"]["r.txt"] == f"s3://{s3.bucket}/{project}/r.txt"
    assert got["entries"]["stored.txt"] is None
    assert got["files"] == {"h.txt": "over http\n", "local.txt": "local reference\n", "r.txt": "in s3\n", "stored.txt": "local reference\n"}
    assert got["listed"] == [["h.txt", 10], ["local.txt", 16], ["r.txt", 6], ["stored.txt", 16]]
    assert "404" in got["missing"]
    assert got["unreachable_logged"] is False


TABLES = """
    import json, sys
    import numpy as np, wandb
    project, out = sys.argv[1], sys.argv[2]
    run = wandb.init(project=project, name="tables")
    table = wandb.Table(columns=["a", "b"], data=[[1, "x"], [2, "y"]])
    image = wandb.Image(np.zeros((8, 8, 3), dtype=np.uint8))
    cm = wandb.plot.confusion_matrix(y_true=[0, 1, 1], preds=[0, 1, 0], class_names=["neg", "pos"])
    run.log({"tab": table, "img": image, "cm": cm})
    rid = run.id
    run.finish()
    run = wandb.init(project=project, name="reader")
    art = run.use_artifact(f"run-{rid}-tab:latest")
    df = art.get("tab").get_dataframe()
    cm_table = run.use_artifact(f"run-{rid}-cm_table:latest").get("cm_table")
    run.finish()
    api = wandb.Api()
    logged = api.run(f"compat/{project}/{rid}").logged_artifacts()
    result = {
        "type": art.type,
        "rows": df.values.tolist(),
        "cm_columns": list(cm_table.columns),
        "logged": sorted((a.name, a.type) for a in logged),
        "files": sorted(f.name.split("/")[1] for f in api.run(f"compat/{project}/{rid}").files() if f.name.startswith("media/")),
    }
    json.dump(result, open(out, "w"))
"""


def test_tables_and_media_logged_with_run_log(tmp_path, store):
    got = _run(tmp_path, _env(tmp_path, store), TABLES, project_name("arttables"))
    assert got["type"] == "run_table"
    assert got["rows"] == [[1, "x"], [2, "y"]]
    assert got["cm_columns"] == ["Actual", "Predicted", "nPredictions"]
    names = [n.split("-", 2)[2] for n, _ in got["logged"]]
    assert names == ["cm_table:v0", "tab:v0"] and {t for _, t in got["logged"]} == {"run_table"}
    # Images are run files (media/images/…), as in W&B; tables are both run files and artifacts.
    assert "images" in got["files"] and "table" in got["files"]


MODELS = """
    import json, os, sys
    import wandb
    project, out = sys.argv[1], sys.argv[2]
    open("model.pt", "w").write("weights v1\\n")
    run = wandb.init(project=project, name="train")
    run.log_model(path="model.pt", name="clf", aliases=["best"])
    run.finish()
    run = wandb.init(project=project, name="deploy")
    path = run.use_model("clf:best")
    result = {"use_model": open(path).read()}
    linked = run.link_model(path="model.pt", name="clf", registered_model_name=f"reg-{project}", aliases=["staging"])
    result["linked"] = {"name": linked.name, "version": linked.version, "is_link": linked.is_link,
                        "project": linked.project, "source": linked.source_name}
    open("model.pt", "w").write("weights v2\\n")
    second = run.link_model(path="model.pt", name="clf", registered_model_name=f"reg-{project}", aliases=["prod"])
    result["second"] = {"version": second.version, "source": second.source_name}
    run.finish()
    api = wandb.Api()
    staged = api.artifact(f"compat/model-registry/reg-{project}:staging")
    result["staging"] = {"version": staged.version, "aliases": sorted(staged.aliases), "type": staged.type, "source": staged.source_name,
                         "content": open(os.path.join(staged.download(root="reg"), "model.pt")).read()}
    latest = api.artifact(f"compat/model-registry/reg-{project}:latest")
    result["latest"] = {"version": latest.version, "aliases": sorted(latest.aliases), "source": latest.source_name}
    result["source_aliases"] = sorted(api.artifact(f"compat/{project}/clf:v0").aliases)
    json.dump(result, open(out, "w"))
"""


def test_log_use_and_link_model(tmp_path, store):
    project = project_name("artmodel")
    got = _run(tmp_path, _env(tmp_path, store), MODELS, project)
    assert got["use_model"] == "weights v1\n"
    assert got["linked"] == {"name": f"reg-{project}:v0", "version": "v0", "is_link": True, "project": "model-registry", "source": "clf:v0"}
    assert got["second"] == {"version": "v1", "source": "clf:v1"}
    assert got["staging"] == {"version": "v0", "aliases": ["staging"], "type": "model", "source": "clf:v0", "content": "weights v1\n"}
    assert got["latest"] == {"version": "v1", "aliases": ["latest", "prod"], "source": "clf:v1"}
    # Aliases of the registry are its own: the logged version keeps only its collection's.
    assert got["source_aliases"] == ["best"]


OFFLINE = """
    import sys
    import wandb
    project = sys.argv[1]
    open("m.pt", "w").write("offline weights\\n")
    run = wandb.init(project=project, name="offline", mode="offline")
    art = wandb.Artifact("offline-data", type="dataset", metadata={"k": 1})
    art.add_file("m.pt")
    run.log_artifact(art, aliases=["off"])
    run.log({"tab": wandb.Table(columns=["a"], data=[[1], [2]])})
    run.log_model(path="m.pt", name="offline-model")
    run.finish()
"""

READ_SYNCED = """
    import json, os, sys
    import wandb
    project, run_id, out = sys.argv[1], sys.argv[2], sys.argv[3]
    api = wandb.Api()
    a = api.artifact(f"compat/{project}/offline-data:off")
    m = api.artifact(f"compat/{project}/offline-model:latest")
    run = api.run(f"compat/{project}/{run_id}")
    result = {
        "data": {"version": a.version, "aliases": sorted(a.aliases), "metadata": a.metadata,
                 "content": open(os.path.join(a.download(root="dl"), "m.pt")).read()},
        "model": {"type": m.type, "files": [f.name for f in m.files()]},
        "logged": sorted(x.type for x in run.logged_artifacts()),
    }
    json.dump(result, open(out, "w"))
"""


def test_offline_artifacts_sync(tmp_path, store):
    project = project_name("artoffline")
    env = _env(tmp_path, store)
    proc = run_python(tmp_path, env, OFFLINE, project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = sorted(str(p) for p in (tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    synced = wandb_cli(tmp_path, env, "sync", runs[0])
    assert synced.returncode == 0, synced.stdout + synced.stderr
    got = _run(tmp_path, env, READ_SYNCED, project, runs[0].rsplit("-", 1)[1])
    assert got["data"] == {"version": "v0", "aliases": ["latest", "off"], "metadata": {"k": 1}, "content": "offline weights\n"}
    assert got["model"] == {"type": "model", "files": ["m.pt"]}
    assert got["logged"] == ["dataset", "model", "run_table"]


BAD_NAMES = """
    import json, sys
    import wandb
    project, out = sys.argv[1], sys.argv[2]
    result = {}
    for name in ["a/b", "a..b"]:
        run = wandb.init(project=project, name="bad")
        try:
            art = wandb.Artifact(name, type="dataset")
            with art.new_file("x.txt") as f:
                f.write("x")
            run.log_artifact(art).wait()
            result[name] = "logged"
        except Exception as e:
            result[name] = f"{type(e).__name__}: {e}"
        run.finish()
    result["exists"] = wandb.Api().artifact_exists(f"compat/{project}/a..b:latest")
    json.dump(result, open(out, "w"))
"""


def test_bad_artifact_names_are_the_clients_errors(tmp_path, store):
    got = _run(tmp_path, _env(tmp_path, store), BAD_NAMES, project_name("artnames"))
    assert got["a/b"].startswith("ValueError") and "Invalid name" in got["a/b"]
    # '..' passes the client's own check; Cairn refuses it and the client raises the server's message.
    assert "Invalid artifact name 'a..b'" in got["a..b"]
    assert got["exists"] is False


MLFLOW_VIEW = """
    import json, sys
    import wandb
    project, out = sys.argv[1], sys.argv[2]
    open("a.txt", "w").write("alpha\\n")
    run = wandb.init(project=project, name="producer")
    art = wandb.Artifact("data", type="dataset")
    art.add_file("a.txt", name="sub/a.txt")
    open("ref.txt", "w").write("referenced\\n")
    art.add_reference("file://" + __import__("os").path.abspath("ref.txt"))
    run.log_artifact(art).wait()
    open("model.pt", "w").write("weights\\n")
    run.log_model(path="model.pt", name="net")
    json.dump({"run": run.id}, open(out, "w"))
    run.finish()
"""


def test_mlflow_sees_a_wandb_artifact_as_files_of_the_logging_run(tmp_path, store):
    import mlflow

    got = _run(tmp_path, _env(tmp_path, store), MLFLOW_VIEW, project_name("artmlflow"))
    client = mlflow.MlflowClient()
    listed = sorted(f.path for f in client.list_artifacts(got["run"], "wandb-artifacts"))
    assert listed == ["wandb-artifacts/data", "wandb-artifacts/net"]
    # Stored files only: a reference's bytes stay where it points.
    assert [f.path for f in client.list_artifacts(got["run"], "wandb-artifacts/data/v0")] == ["wandb-artifacts/data/v0/sub"]
    path = mlflow.artifacts.download_artifacts(run_id=got["run"], artifact_path="wandb-artifacts/data/v0/sub/a.txt", dst_path=str(tmp_path / "m"))
    assert open(path).read() == "alpha\n"
    path = mlflow.artifacts.download_artifacts(run_id=got["run"], artifact_path="wandb-artifacts/net/v0/model.pt", dst_path=str(tmp_path / "m"))
    assert open(path).read() == "weights\n"


INCREMENTAL = """
    import json, os, sys
    import wandb
    project, out = sys.argv[1], sys.argv[2]
    for n in ["one", "two", "three"]:
        open(f"{n}.txt", "w").write(n + "\\n")
    listing = lambda a, d: sorted(os.listdir(a.download(root=d)))
    result = {}
    for i, name in enumerate(["one.txt", "two.txt"]):
        run = wandb.init(project=project, name=f"inc-{i}")
        art = wandb.Artifact("grow", type="dataset", incremental=True)
        art.add_file(name)
        run.log_artifact(art).wait()
        run.finish()
    api = wandb.Api()
    grown = api.artifact(f"compat/{project}/grow:latest")
    result["incremental"] = {"version": grown.version, "files": listing(grown, "g")}
    draft = api.artifact(f"compat/{project}/grow:v0").new_draft()
    draft.remove("one.txt")
    draft.add_file("three.txt")
    run = wandb.init(project=project, name="draft")
    run.log_artifact(draft).wait()
    run.finish()
    edited = api.artifact(f"compat/{project}/grow:latest")
    result["draft"] = {"version": edited.version, "files": listing(edited, "d")}
    json.dump(result, open(out, "w"))
"""


def test_incremental_artifacts_and_new_draft(tmp_path, store):
    got = _run(tmp_path, _env(tmp_path, store), INCREMENTAL, project_name("artinc"))
    # incremental=True uploads only the new entry; the version holds its base's entries too.
    assert got["incremental"] == {"version": "v1", "files": ["one.txt", "two.txt"]}
    assert got["draft"] == {"version": "v2", "files": ["three.txt"]}
