"""The real wandb==0.31.0 client against Cairn, then the same runs read with the mlflow client.

Every wandb session runs in its own subprocess with HOME, WANDB_DIR and the config/cache dirs in a
temp folder, telemetry and error reporting off, so nothing leaks between tests or onto the machine.
The W&B API key comes from `cairn keys create`, as a user would get it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import pathlib
import subprocess
import sys
import textwrap
import time
import uuid

import mlflow
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
ENTITY = "compat"
STEPS = 2000
NAN_STEP = 1000


@pytest.fixture(scope="session")
def wandb_key(cairn_server) -> str:
    return create_wandb_key(cairn_server)


def create_wandb_key(server) -> str:
    """A key for user `compat`, created with the CLI against the server's own database."""
    out = subprocess.run(
        [
            "node", str(REPO / "bin" / "cairn.js"), "keys", "create", "--user", ENTITY,
            "--backend-store-uri", server.backend_store_uri, "--data-dir", str(server.workdir),
        ],
        cwd=REPO, capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
    )
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    assert key.startswith("cairn-") and len(key.split("-", 1)[1]) == 40
    return key


def make_wandb_env(tmp_path: pathlib.Path, url: str, key: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB_", "MLFLOW_"))}
    env.update(
        HOME=str(home),
        WANDB_DIR=str(tmp_path),
        WANDB_CONFIG_DIR=str(tmp_path / "wandb-config"),
        WANDB_CACHE_DIR=str(tmp_path / "wandb-cache"),
        WANDB_DATA_DIR=str(tmp_path / "wandb-data"),
        WANDB_ARTIFACT_DIR=str(tmp_path / "wandb-artifacts"),
        WANDB_BASE_URL=url,
        WANDB_API_KEY=key,
        WANDB_SILENT="true",
        WANDB_ERROR_REPORTING="false",
        WANDB_DISABLE_GIT="true",
        WANDB_DISABLE_CODE="true",
        WANDB_INIT_TIMEOUT="120",
    )
    return env


@pytest.fixture
def wandb_env(tmp_path, cairn_server, wandb_key) -> dict[str, str]:
    return make_wandb_env(tmp_path, cairn_server.url, wandb_key)


def run_python(tmp_path: pathlib.Path, env: dict[str, str], code: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    script = tmp_path / f"script-{uuid.uuid4().hex[:8]}.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)


def wandb_cli(tmp_path: pathlib.Path, env: dict[str, str], *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    # `python -m wandb` rather than the venv's `wandb` script, whose shebang names the folder the
    # venv was built in (scripts/compat.sh builds it under a temporary name, then renames it).
    return subprocess.run([sys.executable, "-m", "wandb", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)


def project_name(tag: str) -> str:
    return f"wandb-{tag}-{uuid.uuid4().hex[:10]}"


def loss_at(i: int) -> float:
    return 1.0 / (i + 1)


ONLINE_RUN = f"""
    import json, os, sys
    import wandb

    project, out = sys.argv[1], sys.argv[2]
    run = wandb.init(
        project=project,
        name="online-run",
        config={{"lr": 0.01, "layers": 4, "optimizer": {{"name": "adam", "betas": [0.9, 0.999], "schedule": {{"warmup": 100}}}}}},
        tags=["baseline", "compat"],
        notes="logged by the compat suite",
        group="grp-1",
        job_type="train",
    )
    print("hello from the training script")
    for i in range({STEPS}):
        wandb.log({{
            "loss": 1.0 / (i + 1),
            "train": {{"acc": i / {STEPS}, "nested": {{"depth": i % 7}}}},
            "nan_metric": float("nan") if i == {NAN_STEP} else float(i),
            "label": "s%d" % (i % 3),
        }})
    run.summary["best_acc"] = 0.99
    run.summary.update({{"final": {{"score": 7}}}})
    with open("model-notes.txt", "w") as f:
        f.write("saved by wandb.save\\n")
    wandb.save("model-notes.txt", policy="now")
    json.dump({{"id": run.id, "entity": run.entity, "project": run.project}}, open(out, "w"))
    run.finish(exit_code=0)
"""

READ_BACK = """
    import json, sys
    import wandb

    path, out = sys.argv[1], sys.argv[2]
    api = wandb.Api(timeout=120)
    runs = list(api.runs(path))
    result = {"runs": []}
    for r in runs:
        result["runs"].append({
            "id": r.id, "name": r.name, "state": r.state, "tags": r.tags, "group": r.group,
            "job_type": r.job_type, "notes": r.notes, "config": r.config, "summary": dict(r.summary),
        })
    run = runs[0]
    result["history_default"] = run.history(pandas=False)
    result["history_all"] = run.history(samples=100000, pandas=False)
    result["history_keys"] = run.history(keys=["loss", "train.acc"], samples=100000, pandas=False)
    result["scan"] = list(run.scan_history())
    result["scan_keys"] = list(run.scan_history(keys=["loss"], page_size=300))
    result["filtered_lr"] = [r.id for r in api.runs(path, filters={"config.lr": 0.01})]
    result["filtered_none"] = [r.id for r in api.runs(path, filters={"config.lr": 0.5})]
    result["filtered_nested"] = [r.id for r in api.runs(path, filters={"config.optimizer.name": "adam", "tags": {"$in": ["compat"]}})]
    result["single"] = api.run(path + "/" + run.id).summary["best_acc"]
    json.dump(result, open(out, "w"), default=dict)  # nested summaries are SummarySubDicts
"""


@pytest.fixture(scope="module")
def online_run(tmp_path_factory, cairn_server, wandb_key):
    """One online run: init with everything, 2,000 wandb.log calls, summary updates, wandb.save, finish(0)."""
    tmp_path = tmp_path_factory.mktemp("wandb-online")
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    project = project_name("online")
    proc = run_python(tmp_path, env, ONLINE_RUN, project, str(tmp_path / "run.json"))
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n{cairn_server.log_tail()}"
    info = json.loads((tmp_path / "run.json").read_text())
    read = run_python(tmp_path, env, READ_BACK, f"{info['entity']}/{project}", str(tmp_path / "read.json"))
    assert read.returncode == 0, f"{read.stdout}\n{read.stderr}\n{cairn_server.log_tail()}"
    return {"info": info, "project": project, "read": json.loads((tmp_path / "read.json").read_text()), "tmp": tmp_path, "url": cairn_server.url, "key": wandb_key}


def _server_and_key(online_run) -> tuple[str, str]:
    return online_run["url"], online_run["key"]


def test_wandb_login_with_a_cairn_key(tmp_path, wandb_env, cairn_server, wandb_key):
    env = {k: v for k, v in wandb_env.items() if k not in ("WANDB_API_KEY", "WANDB_BASE_URL")}
    ok = wandb_cli(tmp_path, env, "login", "--host", cairn_server.url, wandb_key)
    assert ok.returncode == 0, ok.stderr
    assert f"127.0.0.1:{cairn_server.port}" in (pathlib.Path(env["HOME"]) / ".netrc").read_text()
    bad = wandb_cli(tmp_path, env, "login", "--relogin", "--host", cairn_server.url, "cairn-" + "0" * 40)
    assert bad.returncode != 0
    assert "Invalid or missing W&B API key" in bad.stdout + bad.stderr


def test_wrong_key_is_the_clients_auth_error_and_writes_nothing(tmp_path, wandb_env, client):
    project = project_name("badkey")
    env = {**wandb_env, "WANDB_API_KEY": "cairn-" + "1" * 40}
    proc = run_python(tmp_path, env, """
        import sys, wandb
        try:
            wandb.init(project=sys.argv[1], config={"a": 1})
        except Exception as e:
            print("ERROR", type(e).__name__, e)
            sys.exit(3)
    """, project)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "ERROR CommError" in proc.stdout and "Invalid or missing W&B API key" in proc.stdout
    assert client.get_experiment_by_name(project) is None


def test_public_api_reads_what_was_logged(online_run):
    read = online_run["read"]
    assert len(read["runs"]) == 1
    run = read["runs"][0]
    assert run["id"] == online_run["info"]["id"]
    assert run["name"] == "online-run"
    assert run["state"] == "finished"
    assert sorted(run["tags"]) == ["baseline", "compat"]
    assert (run["group"], run["job_type"], run["notes"]) == ("grp-1", "train", "logged by the compat suite")
    assert run["config"] == {"lr": 0.01, "layers": 4, "optimizer": {"name": "adam", "betas": [0.9, 0.999], "schedule": {"warmup": 100}}}
    summary = run["summary"]
    assert summary["best_acc"] == 0.99
    assert summary["final"] == {"score": 7}
    assert summary["loss"] == loss_at(STEPS - 1)
    assert summary["_step"] == STEPS - 1

    # run.history() samples 500 rows by default, as W&B does; with samples it returns them all.
    assert len(read["history_default"]) == 500
    assert read["history_default"][0]["_step"] == 0 and read["history_default"][-1]["_step"] == STEPS - 1
    rows = read["history_all"]
    assert [r["_step"] for r in rows] == list(range(STEPS))
    for i in (0, 1, 999, NAN_STEP, STEPS - 1):
        r = rows[i]
        assert r["loss"] == loss_at(i)
        assert r["train.acc"] == i / STEPS
        assert r["train.nested.depth"] == i % 7
        assert r["label"] == f"s{i % 3}"
    assert math.isnan(rows[NAN_STEP]["nan_metric"])
    assert rows[NAN_STEP + 1]["nan_metric"] == NAN_STEP + 1
    assert read["history_keys"][5] == {"_step": 5, "loss": loss_at(5), "train.acc": 5 / STEPS}

    scan = read["scan"]
    assert len(scan) == STEPS
    assert [r["_step"] for r in scan] == list(range(STEPS))
    assert scan[1234]["loss"] == loss_at(1234) and scan[1234]["label"] == "s1"
    assert math.isnan(scan[NAN_STEP]["nan_metric"])
    assert [r["loss"] for r in read["scan_keys"]] == [loss_at(i) for i in range(STEPS)]

    assert read["filtered_lr"] == [run["id"]]
    assert read["filtered_none"] == []
    assert read["filtered_nested"] == [run["id"]]
    assert read["single"] == 0.99


def test_mlflow_reads_the_same_run(online_run, client, tmp_path):
    run_id = online_run["info"]["id"]
    run = client.get_run(run_id)  # the W&B run id IS the MLflow run id
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "online-run"
    assert run.info.end_time >= run.info.start_time
    exp = client.get_experiment_by_name(online_run["project"])
    assert run.info.experiment_id == exp.experiment_id
    assert run.data.params == {
        "lr": "0.01",
        "layers": "4",
        "optimizer.name": "adam",
        "optimizer.betas": "[0.9,0.999]",
        "optimizer.schedule.warmup": "100",
    }
    tags = run.data.tags
    assert tags["mlflow.note.content"] == "logged by the compat suite"
    assert tags["wandb.group"] == "grp-1"
    assert tags["wandb.job_type"] == "train"
    assert json.loads(tags["wandb.tags"]) == ["baseline", "compat"]
    assert tags["wandb.run_id"] == run_id
    assert tags["mlflow.user"] == ENTITY

    loss = client.get_metric_history(run_id, "loss")
    assert [m.step for m in loss] == list(range(STEPS))
    assert [m.value for m in loss] == [loss_at(i) for i in range(STEPS)]
    assert all(m.timestamp >= run.info.start_time for m in loss)
    acc = client.get_metric_history(run_id, "train.acc")
    assert len(acc) == STEPS and acc[7].value == 7 / STEPS
    depth = client.get_metric_history(run_id, "train.nested.depth")
    assert [m.value for m in depth[:8]] == [0, 1, 2, 3, 4, 5, 6, 0]
    nan_metric = {m.step: m.value for m in client.get_metric_history(run_id, "nan_metric")}
    assert math.isnan(nan_metric[NAN_STEP]) and nan_metric[NAN_STEP + 1] == NAN_STEP + 1
    assert "label" not in run.data.metrics  # strings stay in the W&B history only
    # Summary values the history never had are mirrored as metrics.
    assert run.data.metrics["best_acc"] == 0.99
    assert run.data.metrics["final.score"] == 7
    assert run.data.metrics["loss"] == loss_at(STEPS - 1)

    found = client.search_runs([exp.experiment_id], filter_string="params.lr = '0.01'")
    assert [r.info.run_id for r in found] == [run_id]
    found = client.search_runs([exp.experiment_id], filter_string="params.`optimizer.name` = 'adam' and tags.`wandb.job_type` = 'train'")
    assert [r.info.run_id for r in found] == [run_id]
    assert client.search_runs([exp.experiment_id], filter_string="params.lr = '0.5'") == []

    # wandb.save, output.log and the client's own files are the run's artifacts.
    names = {a.path for a in client.list_artifacts(run_id)}
    assert {"model-notes.txt", "output.log", "config.yaml", "wandb-summary.json", "requirements.txt"} <= names
    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="model-notes.txt", dst_path=str(tmp_path))
    assert pathlib.Path(local).read_text() == "saved by wandb.save\n"
    output = pathlib.Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="output.log", dst_path=str(tmp_path))).read_text()
    assert "hello from the training script" in output


RUN_FILES_READ = """
    import hashlib, base64, json, os, sys
    import wandb

    path, out, dest = sys.argv[1], sys.argv[2], sys.argv[3]
    api = wandb.Api(timeout=120)
    run = api.run(path)
    files = run.files()
    listed = [{"name": f.name, "size": f.size, "md5": f.md5, "mimetype": f.mimetype, "url": f.url} for f in files]
    saved = run.file("model-notes.txt")
    with saved.download(root=dest, replace=True) as fh:
        text = fh.read()
    json_only = [f.name for f in run.files(pattern="%.json")]
    paged = [f.name for f in run.files(per_page=2)]
    json.dump({"count": len(files), "listed": listed, "text": text, "json_only": json_only, "paged": paged}, open(out, "w"))
"""


def test_public_api_lists_and_downloads_run_files(online_run, tmp_path):
    env = make_wandb_env(tmp_path, *_server_and_key(online_run))
    path = f"{online_run['info']['entity']}/{online_run['project']}/{online_run['info']['id']}"
    proc = run_python(tmp_path, env, RUN_FILES_READ, path, str(tmp_path / "files.json"), str(tmp_path / "dl"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    read = json.loads((tmp_path / "files.json").read_text())
    names = [f["name"] for f in read["listed"]]
    assert {"model-notes.txt", "output.log", "config.yaml", "wandb-summary.json", "requirements.txt"} <= set(names)
    assert read["count"] == len(names)
    notes = next(f for f in read["listed"] if f["name"] == "model-notes.txt")
    body = b"saved by wandb.save\n"
    assert notes["size"] == len(body)
    assert notes["md5"] == base64.b64encode(hashlib.md5(body).digest()).decode()
    assert notes["mimetype"] == "text/plain"
    assert read["text"] == body.decode()
    assert (tmp_path / "dl" / "model-notes.txt").read_bytes() == body
    assert read["json_only"] and all(n.endswith(".json") for n in read["json_only"])
    assert "wandb-summary.json" in read["json_only"]
    assert read["paged"] == names  # three or more pages of two, in the same order


def test_exception_fails_the_run(tmp_path, wandb_env, client):
    project = project_name("crash")
    proc = run_python(tmp_path, wandb_env, """
        import json, sys, wandb
        run = wandb.init(project=sys.argv[1], config={"lr": 0.1})
        json.dump({"id": run.id}, open("run.json", "w"))
        for i in range(10):
            wandb.log({"loss": 1.0 / (i + 1)})
        raise RuntimeError("training blew up")
    """, project)
    assert proc.returncode != 0
    assert "training blew up" in proc.stderr
    run_id = json.loads((tmp_path / "run.json").read_text())["id"]
    run = client.get_run(run_id)
    assert run.info.status == "FAILED"
    assert len(client.get_metric_history(run_id, "loss")) == 10
    read = run_python(tmp_path, wandb_env, """
        import sys, wandb
        print(wandb.Api().run(sys.argv[1]).state)
    """, f"{ENTITY}/{project}/{run_id}")
    assert read.stdout.strip() == "failed", read.stderr


def test_offline_run_then_sync_arrives_complete_with_original_times(tmp_path, wandb_env, client):
    project = project_name("offline")
    offline_env = {**wandb_env, "WANDB_MODE": "offline"}
    # The offline run notes its own start and end on the clock; the times Cairn stores must fall in
    # that window, and the sync only starts once the clock has left it, so a time taken at sync is
    # told apart by order of events, not by a fixed wait.
    proc = run_python(tmp_path, offline_env, """
        import json, sys, time, wandb
        t0 = time.time()
        run = wandb.init(project=sys.argv[1], name="offline-run", config={"batch": {"size": 32}}, tags=["offline"])
        for i in range(300):
            wandb.log({"loss": 1.0 / (i + 1), "val": {"acc": i / 300}})
        run.summary["best"] = 1.5
        run_id = run.id
        run.finish()
        json.dump({"id": run_id, "t0": t0, "t1": time.time()}, open("run.json", "w"))
    """, project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    offline = json.loads((tmp_path / "run.json").read_text())
    run_id = offline["id"]
    started_ms, ended_ms = offline["t0"] * 1000, offline["t1"] * 1000
    assert client.get_experiment_by_name(project) is None  # offline: nothing sent yet
    while time.time() * 1000 <= ended_ms + 2:
        time.sleep(0.001)
    sync_started_ms = time.time() * 1000
    run_dirs = sorted(str(p) for p in (tmp_path / "wandb").glob("offline-run-*"))
    assert len(run_dirs) == 1
    sync = wandb_cli(tmp_path, wandb_env, "sync", *run_dirs)
    assert sync.returncode == 0, sync.stdout + sync.stderr

    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "offline-run"
    # wandb keeps the start in whole seconds, hence the lower bound's slack.
    assert started_ms - 1000 <= run.info.start_time <= ended_ms + 1 < sync_started_ms
    assert run.info.start_time <= run.info.end_time <= ended_ms + 1
    assert run.data.params == {"batch.size": "32"}
    loss = client.get_metric_history(run_id, "loss")
    assert [m.step for m in loss] == list(range(300))
    assert all(run.info.start_time <= m.timestamp <= ended_ms + 1 for m in loss), (started_ms, ended_ms, loss[0], loss[-1])
    assert run.data.metrics["best"] == 1.5

    # A second sync of the same folder is a replay: nothing changes.
    again = wandb_cli(tmp_path, wandb_env, "sync", "--include-synced", *run_dirs)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(client.get_metric_history(run_id, "loss")) == 300
    read = run_python(tmp_path, wandb_env, """
        import json, sys, wandb
        r = wandb.Api().run(sys.argv[1])
        print(json.dumps({"state": r.state, "rows": len(list(r.scan_history())), "tags": r.tags}))
    """, f"{ENTITY}/{project}/{run_id}")
    assert json.loads(read.stdout) == {"state": "finished", "rows": 300, "tags": ["offline"]}, read.stderr
