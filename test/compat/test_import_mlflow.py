"""`cairn import mlflow <url>`: the real mlflow client logs into a real `mlflow server` (sqlite file),
Cairn imports it, and the same client reads both sides and compares them, original times included.

The source server is started once for the module (it takes several seconds to start). Each test
imports into its own fresh Cairn store and reads it through a Cairn server started on that store.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass

import mlflow
import numpy as np
import pytest
import requests
from mlflow import MlflowClient
from mlflow.entities import LoggedModelStatus, Metric

import reference_servers

# Both test/compat/conftest.py and test/compat/artifacts/conftest.py are "conftest" to Python: a
# plain `from conftest import ...` gets whichever pytest imported last. Load this folder's by path.
import importlib.util as _ilu

_spec = _ilu.spec_from_file_location("compat_root_conftest", pathlib.Path(__file__).with_name("conftest.py"))
_root_conftest = _ilu.module_from_spec(_spec)
sys.modules[_spec.name] = _root_conftest  # dataclasses look their module up there
_spec.loader.exec_module(_root_conftest)
REPO = _root_conftest.REPO
CairnServer = _root_conftest.CairnServer
_free_port = reference_servers.free_port



@dataclass
class Source:
    """Where the real client logs and reads (a server URL or a file store URI), and what `cairn import` is given."""

    url: str
    args: list[str]


def _admin(statement: str) -> None:
    import psycopg2

    conn = psycopg2.connect(os.environ["TEST_DATABASE_URL"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(statement)
    conn.close()


def _mlflow_server(backend: str, workdir: pathlib.Path):
    """A real `mlflow server` on `backend`, with its artifacts served (the 3.x default) from workdir/artifacts."""
    return reference_servers.mlflow_server(backend=backend, workdir=workdir)


@pytest.fixture(scope="module")
def sqlite_server():
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-import-src-"))
    try:
        with _mlflow_server(f"sqlite:///{workdir / 'mlflow.db'}", workdir) as url:
            yield url, f"sqlite:///{workdir / 'mlflow.db'}", str(workdir / "artifacts")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def postgresql_server():
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-import-src-"))
    db_name = f"cairn_mlflow_src_{uuid.uuid4().hex[:10]}"
    _admin(f"create database {db_name}")
    # mlflow 3.18 takes a bare postgresql:// as psycopg 3, which the venv does not have; the driver
    # suffix is SQLAlchemy's spelling, and cairn import accepts it as is.
    db_uri = re.sub(r"^postgres(ql)?://", "postgresql+psycopg2://", os.environ["TEST_DATABASE_URL"].rsplit("/", 1)[0]) + "/" + db_name
    try:
        with _mlflow_server(db_uri, workdir) as url:
            yield url, db_uri, str(workdir / "artifacts")
    finally:
        reference_servers.drop_database(os.environ["TEST_DATABASE_URL"], db_name)
        shutil.rmtree(workdir, ignore_errors=True)


# Every source kind the importer reads: the server's REST API, its SQL database read directly (sqlite,
# and Postgres when the suite has one), and a file store folder the client writes without a server.
KINDS = ["rest", "sqlite", "filestore"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(params=KINDS)
def origin(request):
    if request.param == "rest":
        url, _, _ = request.getfixturevalue("sqlite_server")
        yield Source(url, [url])
    elif request.param in ("sqlite", "postgresql"):
        url, db_uri, artifacts = request.getfixturevalue(f"{request.param}_server")
        yield Source(url, [db_uri, "--source-artifacts", artifacts])
    else:
        folder = pathlib.Path(tempfile.mkdtemp(prefix="cairn-import-mlruns-"))
        # MLflow 3.13+ writes a file store only when asked to (it is deprecated, not gone).
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        try:
            yield Source(folder.as_uri(), [str(folder)])
        finally:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
            shutil.rmtree(folder, ignore_errors=True)


def _log_source(url: str, tag: str, runs: int = 3, points: int = 300) -> dict:
    """Every entity the importer carries, logged by the real client into the source (a server or a file store)."""
    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    c = MlflowClient(url, url)
    exp_id = c.create_experiment(f"imp-{tag}", tags={"team": "vision", "tag": tag})
    run_ids = []
    for i in range(runs):
        with mlflow.start_run(experiment_id=exp_id, run_name=f"run-{i}") as run:
            mlflow.log_params({"lr": 0.01 * (i + 1), "layers": i + 2})
            mlflow.set_tags({"phase": "train", "i": str(i)})
            loss = [Metric("loss", 1.0 / (step + 1), 1_700_000_000_000 + step, step) for step in range(points)]
            for start in range(0, points, 1000):
                c.log_batch(run.info.run_id, metrics=loss[start:start + 1000])
            c.log_metric(run.info.run_id, "acc", float("nan"), step=0, timestamp=1_700_000_000_000)
            c.log_metric(run.info.run_id, "acc", 0.5, step=0, timestamp=1_700_000_000_000)  # two points, same step
            mlflow.log_input(mlflow.data.from_numpy(np.arange(6).reshape(3, 2), name=f"ds-{i}"), context="training")
            mlflow.log_text("hello " * (i + 1), "notes/hello.txt")
            mlflow.log_dict({"i": i}, "config.json")
            run_ids.append(run.info.run_id)
            if i == 0:
                logged = mlflow.initialize_logged_model(
                    name="net", source_run_id=run.info.run_id, model_type="custom", tags={"owner": "ml"}, params={"layers": "3"}
                )
                folder = pathlib.Path(tempfile.mkdtemp())
                (folder / "MLmodel").write_text("flavors: {}\n")
                (folder / "weights").mkdir()
                (folder / "weights" / "w.bin").write_bytes(bytes(range(256)) * 8)
                c.log_model_artifacts(logged.model_id, str(folder))
                mlflow.log_metric("val_acc", 0.91, step=3, model_id=logged.model_id)
                mlflow.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    c.set_terminated(run_ids[1], status="FAILED")
    deleted_run = run_ids[2]
    c.delete_run(deleted_run)
    dead_exp = c.create_experiment(f"imp-dead-{tag}")
    with mlflow.start_run(experiment_id=dead_exp) as r:
        mlflow.log_metric("m", 1.0)
    c.delete_experiment(dead_exp)

    model = f"model-{tag}"
    c.create_registered_model(model, tags={"owner": "ml"}, description="the model")
    for rid in run_ids[:2]:
        src = c.get_run(rid).info.artifact_uri + "/notes"
        c.create_model_version(model, src, run_id=rid, tags={"from": rid[:6]}, description=f"from {rid}")
    # Version 3 is the logged model (the MLflow 3 path: its source is models:/m-...).
    mlflow.register_model(f"models:/{logged.model_id}", model)
    c.transition_model_version_stage(model, "1", "Production")
    c.set_registered_model_alias(model, "champion", "2")
    c.set_registered_model_alias(model, "latest-logged", "3")
    prompt = f"prompt-{tag}"
    mlflow.genai.register_prompt(name=prompt, template="Hello {{person}}!", commit_message="first", tags={"lang": "en"})
    mlflow.genai.register_prompt(name=prompt, template=[{"role": "user", "content": "Hi {{person}}"}], commit_message="chat")
    mlflow.genai.set_prompt_alias(prompt, "production", 2)
    return {"experiments": [exp_id, dead_exp], "runs": run_ids, "model": model, "prompt": prompt, "logged_model": logged.model_id}


def _import(source: list[str], dest: CairnServer, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
    """`cairn import mlflow <source>`: a server URL, a database URI or a file store folder (and its flags)."""
    return subprocess.run(
        ["node", str(REPO / "bin" / "cairn.js"), "import", "mlflow", *source,
         "--backend-store-uri", dest.backend_store_uri, "--data-dir", str(dest.workdir),
         "--artifacts-destination", str(dest.workdir / "artifacts"), *extra],
        cwd=REPO, capture_output=True, text=True, check=check, timeout=300,
    )


def _files(list_fn, download_fn) -> dict:
    """Every file below an artifact root: path -> (size, bytes)."""
    out, stack = {}, [""]
    while stack:
        for f in list_fn(stack.pop() or None):
            if f.is_dir:
                stack.append(f.path)
            else:
                out[f.path] = (f.file_size, pathlib.Path(download_fn(f.path)).read_bytes())
    return out


def _snapshot(url: str, src: dict, names: list[str]) -> dict:
    """Everything the client reads back, in a form that can be compared across servers and stores."""
    mlflow.set_tracking_uri(url)
    mlflow.set_registry_uri(url)
    c = MlflowClient(url, url)
    out: dict = {"experiments": {}, "model": None}
    for name in names:
        exp = c.get_experiment_by_name(name)
        runs = {}
        for r in c.search_runs([exp.experiment_id], run_view_type=mlflow.entities.ViewType.ALL):
            rid = r.info.run_id
            history = {k: sorted((m.step, m.timestamp, str(m.value)) for m in c.get_metric_history(rid, k)) for k in r.data.metrics}
            datasets = sorted((d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.schema, tuple(sorted((t.key, t.value) for t in d.tags))) for d in r.inputs.dataset_inputs)
            runs[rid] = {
                "name": r.info.run_name, "status": r.info.status, "start": r.info.start_time, "end": r.info.end_time,
                "user": r.info.user_id, "lifecycle": r.info.lifecycle_stage,
                "params": r.data.params, "tags": r.data.tags, "history": history, "datasets": datasets,
                "artifacts": _files(lambda p, rid=rid: c.list_artifacts(rid, p), lambda p, rid=rid: c.download_artifacts(rid, p, tempfile.mkdtemp())),
            }
        logged = {}
        if exp.lifecycle_stage == "active":
            for lm in c.search_logged_models([exp.experiment_id]):
                logged[lm.model_id] = {
                    "name": lm.name, "status": str(lm.status), "type": lm.model_type, "run": lm.source_run_id,
                    "created": lm.creation_timestamp, "updated": lm.last_updated_timestamp,
                    "params": lm.params, "tags": lm.tags,
                    "metrics": sorted((m.key, m.value, m.step, m.timestamp, m.run_id) for m in lm.metrics or []),
                    "artifacts": _files(
                        lambda p, mid=lm.model_id: c.list_logged_model_artifacts(mid, p),
                        lambda p, root=mlflow.artifacts.download_artifacts(f"models:/{lm.model_id}", dst_path=tempfile.mkdtemp()): pathlib.Path(root) / p,
                    ),
                }
        out["experiments"][name] = {
            "tags": exp.tags, "lifecycle": exp.lifecycle_stage, "created": exp.creation_time, "updated": exp.last_update_time,
            "runs": runs, "logged_models": logged,
        }
    m = c.get_registered_model(src["model"])
    versions = {}
    for v in c.search_model_versions(f"name='{src['model']}'"):
        versions[str(v.version)] = {  # the file store answers an int, servers a string
            # A server answers "" for no description; the file store read directly answers None.
            "stage": v.current_stage, "description": v.description or "", "tags": v.tags, "run_id": v.run_id,
            "created": v.creation_timestamp, "updated": v.last_updated_timestamp, "source_tail": v.source.split("/artifacts/", 1)[-1],
        }
    out["model"] = {
        "description": m.description, "tags": m.tags, "aliases": m.aliases, "created": m.creation_timestamp,
        "updated": m.last_updated_timestamp, "versions": versions,
    }
    prompts = {}
    for v in (1, 2):
        p = mlflow.genai.load_prompt(f"prompts:/{src['prompt']}/{v}")
        prompts[v] = {"template": p.template, "message": p.commit_message, "tags": p.tags, "created": p.creation_timestamp}
    prompts["production"] = mlflow.genai.load_prompt(f"prompts:/{src['prompt']}@production").version
    out["prompt"] = prompts
    return out


def _diff(got, expected, path: str = "") -> list[str]:
    """Where two snapshots differ, one line per leaf, so a failure names the field."""
    if isinstance(got, dict) and isinstance(expected, dict):
        out = []
        for k in sorted(set(got) | set(expected), key=str):
            if k not in got or k not in expected:
                out.append(f"{path}/{k}: only in {'cairn' if k in got else 'source'}")
            else:
                out.extend(_diff(got[k], expected[k], f"{path}/{k}"))
        return out
    return [] if got == expected else [f"{path}: cairn {got!r:.200} != source {expected!r:.200}"]


@pytest.fixture
def dest():
    """A fresh destination store (its own PGlite folder or Postgres database)."""
    with reference_servers.fresh_cairn(CairnServer, "cairn-import-dst-") as server:
        yield server


def test_import_keeps_everything_and_a_second_run_changes_nothing(origin, dest):
    tag = uuid.uuid4().hex[:8]
    src = _log_source(origin.url, tag)
    names = [f"imp-{tag}", f"imp-dead-{tag}"]

    dry = _import(origin.args, dest, "--dry-run")
    # The module's source server also holds the other tests' data: at least this test's 4 runs.
    counts = re.search(r"would import: \d+ experiments, (\d+) runs, (\d+) metric points, \d+ artifacts \(\d+ bytes\), (\d+) logged models", dry.stdout)
    assert counts and int(counts[1]) >= 4 and int(counts[2]) >= 3 * 302 + 1 and int(counts[3]) >= 1, dry.stdout

    first = _import(origin.args, dest, "--verify")
    assert "no difference" in first.stdout, first.stdout + first.stderr
    assert first.stderr == ""  # not a TTY: no progress output

    dest.start()
    try:
        expected = _snapshot(origin.url, src, names)
        got = _snapshot(dest.url, src, names)
        assert not _diff(got, expected)
        exp = got["experiments"][names[0]]
        assert set(exp["runs"]) == set(src["runs"])  # original run ids
        assert len(exp["runs"][src["runs"][0]]["history"]["loss"]) == 300
        assert got["model"]["aliases"] == {"champion": "2", "latest-logged": "3"}
        # The logged model keeps its id (version 3's models:/ source still resolves), files and metrics.
        lm = exp["logged_models"][src["logged_model"]]
        assert lm["status"] == "READY" and lm["artifacts"]["weights/w.bin"][0] == 2048
        assert [m[:3] for m in lm["metrics"]] == [("val_acc", 0.91, 3)]
        assert got["model"]["versions"]["3"]["source_tail"] == f"models:/{src['logged_model']}"
        assert got["prompt"]["production"] == 2 and got["prompt"][1]["template"] == "Hello {{person}}!"
        assert got["model"]["versions"]["1"]["stage"] == "Production"
        # The version's source points into Cairn's copy of the run's artifacts, which it can read.
        v1 = MlflowClient(dest.url).get_model_version(src["model"], "1")
        assert v1.source.startswith("mlflow-artifacts:") and v1.source.endswith(f"/{src['runs'][0]}/artifacts/notes")
    finally:
        dest.stop()

    again = _import(origin.args, dest, "--verify")
    assert "no difference" in again.stdout, again.stdout
    dest.start()
    try:
        assert not _diff(_snapshot(dest.url, src, names), got)
        # A point the source does not have: --verify (which reads both sides through the same calls,
        # whatever the source kind) must name it and fail.
        MlflowClient(dest.url).log_metric(src["runs"][0], "loss", 42.0, step=99_999)
    finally:
        dest.stop()
    drift = _import(origin.args, dest, "--verify", check=False)
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert re.search(rf"run {src['runs'][0]} metric 'loss' points\s+300\s+301", drift.stdout), drift.stdout
    assert "verify: 2 of" in drift.stdout, drift.stdout  # the count and the checksum


def test_import_killed_mid_run_resumes_without_duplicates(origin, dest):
    tag = uuid.uuid4().hex[:8]
    src = _log_source(origin.url, tag, runs=3, points=2000)
    names = [f"imp-{tag}", f"imp-dead-{tag}"]
    artifacts = dest.workdir / "artifacts"
    proc = subprocess.Popen(
        ["node", str(REPO / "bin" / "cairn.js"), "import", "mlflow", *origin.args,
         "--backend-store-uri", dest.backend_store_uri, "--data-dir", str(dest.workdir), "--artifacts-destination", str(artifacts)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    # The first run's artifacts come after its metrics and before the next run: kill right then.
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not any(p.is_file() for p in artifacts.rglob("*")):
        time.sleep(0.02)
    proc.kill()
    assert proc.wait() == -9, "the import finished before it could be interrupted"

    resumed = _import(origin.args, dest, "--verify")
    assert "no difference" in resumed.stdout, resumed.stdout
    dest.start()
    try:
        assert not _diff(_snapshot(dest.url, src, names), _snapshot(origin.url, src, names))
    finally:
        dest.stop()


def test_unreachable_server_is_one_clear_line(dest):
    port = _free_port()
    r = _import([f"http://127.0.0.1:{port}"], dest, check=False)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], r.stderr



def test_file_store_with_a_corrupt_meta_and_a_bad_metric_line_imports_the_rest(dest):
    """Bad input named in one line each, in the summary of what was skipped; good data still imported."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="cairn-import-mlruns-"))
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        url = folder.as_uri()
        mlflow.set_tracking_uri(url)
        c = MlflowClient(url)
        exp_id = c.create_experiment(f"bad-{uuid.uuid4().hex[:8]}")
        ids = []
        for i in range(2):
            with mlflow.start_run(experiment_id=exp_id) as run:
                for step in range(10):
                    mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
                ids.append(run.info.run_id)
        broken_meta = folder / exp_id / ids[1] / "meta.yaml"
        broken_meta.write_text("run_id: [unclosed\n")
        metric_file = folder / exp_id / ids[0] / "metrics" / "loss"
        with metric_file.open("a") as f:
            f.write("not-a-timestamp 1.0 3\n")

        r = _import([str(folder)], dest, "--verify")
        assert "imported: " in r.stdout and " 1 runs, 10 metric points" in r.stdout, r.stdout
        assert f"{broken_meta}: corrupt YAML" in r.stdout, r.stdout
        assert f"{metric_file}:11: malformed metric line 'not-a-timestamp 1.0 3'" in r.stdout, r.stdout
        assert "no difference" in r.stdout
        dest.start()
        try:
            assert len(MlflowClient(dest.url).get_metric_history(ids[0], "loss")) == 10
        finally:
            dest.stop()
    finally:
        os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        shutil.rmtree(folder, ignore_errors=True)

SOURCE_RUN_TAG = "cairn.export.source_run_id"
SOURCE_MODEL_TAG = "cairn.export.source_model_id"


def _as_source(snap: dict) -> dict:
    """An exported snapshot in the source's terms: REST gives the destination new run and logged-model
    ids (each carries the source's in a tag) and its own creation times for experiments, registered
    models, versions and prompts; everything else must be equal."""
    runs_back, models_back = {}, {}
    for exp in snap["experiments"].values():
        for rid, run in exp["runs"].items():
            runs_back[rid] = run["tags"].pop(SOURCE_RUN_TAG)
        for mid, lm in exp["logged_models"].items():
            models_back[mid] = lm["tags"].pop(SOURCE_MODEL_TAG)
    for exp in snap["experiments"].values():
        exp.pop("created"), exp.pop("updated")
        exp["runs"] = {runs_back[rid]: run for rid, run in exp["runs"].items()}
        for lm in exp["logged_models"].values():
            lm.pop("created"), lm.pop("updated")
            lm["run"] = runs_back.get(lm["run"], lm["run"])
            lm["metrics"] = [(k, v, s, t, runs_back.get(r, r)) for k, v, s, t, r in lm["metrics"]]
        exp["logged_models"] = {models_back[mid]: lm for mid, lm in exp["logged_models"].items()}
    snap["model"].pop("created"), snap["model"].pop("updated")
    for v in snap["model"]["versions"].values():
        v.pop("created"), v.pop("updated")
        v["run_id"] = runs_back.get(v["run_id"], v["run_id"])
        if v["source_tail"].startswith("models:/"):
            v["source_tail"] = "models:/" + models_back[v["source_tail"][len("models:/"):]]
    for v in (1, 2):
        snap["prompt"][v].pop("created")
    return snap


def _source_view(snap: dict) -> dict:
    """The source snapshot without the times REST cannot set (see _as_source)."""
    for exp in snap["experiments"].values():
        exp.pop("created"), exp.pop("updated")
        for lm in exp["logged_models"].values():
            lm.pop("created"), lm.pop("updated")
    snap["model"].pop("created"), snap["model"].pop("updated")
    for v in snap["model"]["versions"].values():
        v.pop("created"), v.pop("updated")
    for v in (1, 2):
        snap["prompt"][v].pop("created")
    return snap


def _export(url: str, store: CairnServer, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["node", str(REPO / "bin" / "cairn.js"), "export", "mlflow", url,
         "--backend-store-uri", store.backend_store_uri, "--data-dir", str(store.workdir),
         "--artifacts-destination", str(store.workdir / "artifacts"), *extra],
        cwd=REPO, capture_output=True, text=True, check=check, timeout=600,
    )


def test_export_to_a_fresh_server_killed_and_resumed_keeps_everything(sqlite_server, dest):
    """MLflow server -> cairn import -> cairn export (SIGKILLed once, resumed) -> a fresh MLflow server;
    the real client reads the first and the last server and compares."""
    url, _, _ = sqlite_server
    tag = uuid.uuid4().hex[:8]
    src = _log_source(url, tag, runs=3, points=2000)
    names = [f"imp-{tag}", f"imp-dead-{tag}"]
    _import([url], dest)
    target_dir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-export-dst-"))
    try:
        with _mlflow_server(f"sqlite:///{target_dir / 'mlflow.db'}", target_dir) as target:
            dry = _export(target, dest, "--dry-run")
            assert re.search(r"would export: \d+ experiments, \d+ runs", dry.stdout), dry.stdout
            assert not requests.get(f"{target}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": names[0]}, timeout=10).ok

            proc = subprocess.Popen(
                ["node", str(REPO / "bin" / "cairn.js"), "export", "mlflow", target,
                 "--backend-store-uri", dest.backend_store_uri, "--data-dir", str(dest.workdir), "--artifacts-destination", str(dest.workdir / "artifacts")],
                cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )
            uploaded = target_dir / "artifacts"
            deadline = time.monotonic() + 300
            while proc.poll() is None and time.monotonic() < deadline and not any(p.is_file() for p in uploaded.rglob("*")):
                time.sleep(0.02)
            proc.kill()
            assert proc.wait() == -9, "the export finished before it could be interrupted"

            resumed = _export(target, dest, "--verify")
            assert "no difference" in resumed.stdout, resumed.stdout
            expected = _source_view(_snapshot(url, src, names))
            got = _as_source(_snapshot(target, src, names))
            assert not _diff(got, expected)
            assert len(got["experiments"][names[0]]["runs"][src["runs"][0]]["history"]["loss"]) == 2000

            again = _export(target, dest, "--verify")
            assert "no difference" in again.stdout, again.stdout
            assert not _diff(_as_source(_snapshot(target, src, names)), expected)
    finally:
        shutil.rmtree(target_dir, ignore_errors=True)
