"""`cairn import mlflow <url>`: the real mlflow client logs into a real `mlflow server` (sqlite file),
Cairn imports it, and the same client reads both sides and compares them, original times included.

The source server is started once for the module (it takes several seconds to start). Each test
imports into its own fresh Cairn store and reads it through a Cairn server started on that store.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric

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



@pytest.fixture(scope="module")
def mlflow_source():
    """A real `mlflow server` on a sqlite file, with its artifacts served (the 3.x default)."""
    with reference_servers.mlflow_server(prefix="cairn-import-src-") as url:
        yield url


def _log_source(url: str, tag: str, runs: int = 3, points: int = 300) -> dict:
    """Every entity the importer carries, logged by the real client into the source server."""
    mlflow.set_tracking_uri(url)
    c = MlflowClient(url)
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
    c.transition_model_version_stage(model, "1", "Production")
    c.set_registered_model_alias(model, "champion", "2")
    return {"experiments": [exp_id, dead_exp], "runs": run_ids, "model": model}


def _import(url: str, dest: CairnServer, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["node", str(REPO / "bin" / "cairn.js"), "import", "mlflow", url,
         "--backend-store-uri", dest.backend_store_uri, "--data-dir", str(dest.workdir),
         "--artifacts-destination", str(dest.workdir / "artifacts"), *extra],
        cwd=REPO, capture_output=True, text=True, check=check, timeout=300,
    )


def _snapshot(url: str, names: list[str], model: str) -> dict:
    """Everything the client reads back, in a form that can be compared across servers."""
    c = MlflowClient(url)
    out: dict = {"experiments": {}, "model": None}
    for name in names:
        exp = c.get_experiment_by_name(name)
        runs = {}
        for r in c.search_runs([exp.experiment_id], run_view_type=mlflow.entities.ViewType.ALL):
            rid = r.info.run_id
            history = {k: sorted((m.step, m.timestamp, str(m.value)) for m in c.get_metric_history(rid, k)) for k in r.data.metrics}
            artifacts = {}
            stack = [""]
            while stack:
                for f in c.list_artifacts(rid, stack.pop() or None):
                    if f.is_dir:
                        stack.append(f.path)
                    else:
                        artifacts[f.path] = (f.file_size, pathlib.Path(c.download_artifacts(rid, f.path, tempfile.mkdtemp())).read_bytes())
            datasets = sorted((d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.schema, tuple(sorted((t.key, t.value) for t in d.tags))) for d in r.inputs.dataset_inputs)
            runs[rid] = {
                "name": r.info.run_name, "status": r.info.status, "start": r.info.start_time, "end": r.info.end_time,
                "user": r.info.user_id, "lifecycle": r.info.lifecycle_stage,
                "params": r.data.params, "tags": r.data.tags, "history": history, "datasets": datasets, "artifacts": artifacts,
            }
        out["experiments"][name] = {
            "tags": exp.tags, "lifecycle": exp.lifecycle_stage, "created": exp.creation_time, "runs": runs,
        }
    m = c.get_registered_model(model)
    versions = {}
    for v in c.search_model_versions(f"name='{model}'"):
        versions[v.version] = {
            "stage": v.current_stage, "description": v.description, "tags": v.tags, "run_id": v.run_id,
            "created": v.creation_timestamp, "source_tail": v.source.split("/artifacts/", 1)[-1],
        }
    out["model"] = {"description": m.description, "tags": m.tags, "aliases": m.aliases, "created": m.creation_timestamp, "versions": versions}
    return out


@pytest.fixture
def dest():
    """A fresh destination store (its own PGlite folder or Postgres database): a shared one would
    already hold the previous test's import, with its artifacts in another test's folder."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-import-dst-"))
    server = CairnServer(workdir)
    with reference_servers.fresh_backend_store(workdir) as uri:
        server.backend_store_uri = uri
        yield server
        server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def test_import_from_server_keeps_everything_and_a_second_run_changes_nothing(mlflow_source, dest):
    tag = uuid.uuid4().hex[:8]
    src = _log_source(mlflow_source, tag)
    names = [f"imp-{tag}", f"imp-dead-{tag}"]

    dry = _import(mlflow_source, dest, "--dry-run")
    assert "would import" in dry.stdout and " 4 runs" in dry.stdout, dry.stdout

    first = _import(mlflow_source, dest, "--verify")
    assert "no difference" in first.stdout, first.stdout + first.stderr
    assert first.stderr == ""  # not a TTY: no progress output

    dest.start()
    try:
        expected = _snapshot(mlflow_source, names, src["model"])
        got = _snapshot(dest.url, names, src["model"])
        # Deleted experiments are not readable by name on either side once deleted? Both are: same snapshot.
        assert got == expected
        exp = got["experiments"][names[0]]
        assert set(exp["runs"]) == set(src["runs"])  # original run ids
        assert len(exp["runs"][src["runs"][0]]["history"]["loss"]) == 300
        assert got["model"]["aliases"] == {"champion": "2"}
        assert got["model"]["versions"]["1"]["stage"] == "Production"
        # The version's source points into Cairn's copy of the run's artifacts, which it can read.
        v1 = MlflowClient(dest.url).get_model_version(src["model"], "1")
        assert v1.source.startswith("mlflow-artifacts:") and v1.source.endswith(f"/{src['runs'][0]}/artifacts/notes")
    finally:
        dest.stop()

    again = _import(mlflow_source, dest, "--verify")
    assert "no difference" in again.stdout, again.stdout
    dest.start()
    try:
        assert _snapshot(dest.url, names, src["model"]) == got
    finally:
        dest.stop()


def test_import_killed_mid_run_resumes_without_duplicates(mlflow_source, dest):
    tag = uuid.uuid4().hex[:8]
    src = _log_source(mlflow_source, tag, runs=3, points=2000)
    names = [f"imp-{tag}", f"imp-dead-{tag}"]
    artifacts = dest.workdir / "artifacts"
    proc = subprocess.Popen(
        ["node", str(REPO / "bin" / "cairn.js"), "import", "mlflow", mlflow_source,
         "--backend-store-uri", dest.backend_store_uri, "--data-dir", str(dest.workdir), "--artifacts-destination", str(artifacts)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    # The first run's artifacts come after its metrics and before the next run: kill right then.
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not any(p.is_file() for p in artifacts.rglob("*")):
        time.sleep(0.02)
    proc.kill()
    assert proc.wait() == -9, "the import finished before it could be interrupted"

    resumed = _import(mlflow_source, dest, "--verify")
    assert "no difference" in resumed.stdout, resumed.stdout
    dest.start()
    try:
        assert _snapshot(dest.url, names, src["model"]) == _snapshot(mlflow_source, names, src["model"])
    finally:
        dest.stop()


def test_unreachable_server_is_one_clear_line(dest):
    port = _free_port()
    r = _import(f"http://127.0.0.1:{port}", dest, check=False)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], r.stderr
