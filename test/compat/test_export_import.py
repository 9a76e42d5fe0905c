"""mlflow-export-import (from PyPI) round trip: the real mlflow client logs experiments, runs and a
registered model (versions, stages, an alias) into Cairn; the tool exports them and imports them into
a real `mlflow server` 3.18.0, then exports them from there and imports them into a fresh Cairn. The
real client reads all three and they must agree.

What the tool itself does not carry (release 1.2.0, the newest on PyPI) is checked where it can be:
it creates new runs (new ids, start/end times, FINISHED status) and drops aliases on import, so the
original times, statuses and the alias are checked in what it exported from Cairn, and the rest is compared across the hops.
Its model import requires each version's source to be a folder on local disk, so the peers it
imports into keep artifacts in a local `--default-artifact-root` (`--no-serve-artifacts`).
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import uuid

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric

import reference_servers

# The root conftest by path: test/compat/artifacts/conftest.py shadows it for `from conftest import`.
import importlib.util as _ilu

_spec = _ilu.spec_from_file_location("compat_root_conftest", pathlib.Path(__file__).with_name("conftest.py"))
_root_conftest = _ilu.module_from_spec(_spec)
sys.modules[_spec.name] = _root_conftest  # dataclasses look their module up there
_spec.loader.exec_module(_root_conftest)
CairnServer = _root_conftest.CairnServer

HERE = pathlib.Path(__file__).resolve().parent
REQUIREMENTS = HERE / "export-import-requirements.txt"
STAGES = "Production,Staging,Archived,None"


@pytest.fixture(scope="module")
def export_import() -> pathlib.Path:
    """The tool, installed once beside the venv (reference_servers.pip_target)."""
    return reference_servers.pip_target(REQUIREMENTS)


def _tool(tool_dir: pathlib.Path, module: str, tracking_uri: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {"MLFLOW_TRACKING_URI": tracking_uri, "MLFLOW_DISABLE_TELEMETRY": "true", "PYTHONPATH": str(tool_dir)}
    r = subprocess.run([sys.executable, "-m", f"mlflow_export_import.bulk.{module}", *args],
                       env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{module} against {tracking_uri} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    if module == "import_models":
        # The bulk importer catches an experiment's failure, prints it and carries on: a failure all the same.
        assert "Traceback" not in r.stdout + r.stderr and '"exceptions": []' in r.stdout, r.stdout + r.stderr
    return r.stdout


def _export(tool_dir, tracking_uri: str, model: str, out: pathlib.Path) -> None:
    _tool(tool_dir, "export_models", tracking_uri, "--models", model, "--output-dir", str(out), "--export-all-runs", "true", "--stages", STAGES)


def _import(tool_dir, tracking_uri: str, src: pathlib.Path) -> None:
    _tool(tool_dir, "import_models", tracking_uri, "--input-dir", str(src))


def _log_source(url: str, tag: str) -> dict:
    mlflow.set_tracking_uri(url)
    c = MlflowClient(url)
    exp_id = c.create_experiment(f"exim-{tag}", tags={"team": "vision"})
    runs = {}
    for i in range(3):
        with mlflow.start_run(experiment_id=exp_id, run_name=f"run-{i}") as run:
            rid = run.info.run_id
            mlflow.log_params({"lr": 0.01 * (i + 1), "layers": i + 2})
            mlflow.set_tags({"phase": "train", "i": str(i)})
            c.log_batch(rid, metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(50)])
            c.log_metric(rid, "acc", 0.25 * i, step=7, timestamp=1_700_000_000_500)
            mlflow.log_text("hello " * (i + 1), "model/notes.txt")
            mlflow.log_dict({"i": i}, "config.json")
        runs[f"run-{i}"] = rid
    c.set_terminated(runs["run-1"], status="FAILED")
    model = f"exim-model-{tag}"
    c.create_registered_model(model, tags={"owner": "ml"}, description="the model")
    for name in ("run-0", "run-1"):
        rid = runs[name]
        # runs:/ (the tool's model import misreads an mlflow-artifacts: source: it looks for the
        # first "artifacts" in the URI, which is in the scheme).
        c.create_model_version(model, f"runs:/{rid}/model", run_id=rid, tags={"from": name}, description=f"from {name}")
    c.transition_model_version_stage(model, "1", "Production")
    c.transition_model_version_stage(model, "2", "Staging")
    c.set_registered_model_alias(model, "champion", "2")
    return {"experiment": f"exim-{tag}", "runs": runs, "model": model}


def _experiment_snapshot(url: str, experiment: str) -> dict:
    """An experiment as the real client reads it back, keyed by names (ids and run times are the tool's own)."""
    c = MlflowClient(url)
    exp = c.get_experiment_by_name(experiment)
    runs = {}
    for r in c.search_runs([exp.experiment_id]):
        rid = r.info.run_id
        artifacts = {}
        stack = [""]
        while stack:
            for f in c.list_artifacts(rid, stack.pop() or None):
                if f.is_dir:
                    stack.append(f.path)
                else:
                    artifacts[f.path] = pathlib.Path(c.download_artifacts(rid, f.path, tempfile.mkdtemp())).read_text()
        runs[r.info.run_name] = {
            "params": r.data.params, "metrics": r.data.metrics,
            "tags": {k: v for k, v in r.data.tags.items() if k not in ("mlflow.user", "mlflow.runName")},
            "history": {k: sorted((m.step, m.timestamp, m.value) for m in c.get_metric_history(rid, k)) for k in r.data.metrics},
            "artifacts": artifacts,
        }
    return {"tags": exp.tags, "lifecycle": exp.lifecycle_stage, "runs": runs}


def _snapshot(url: str, experiment: str, model: str) -> dict:
    """The experiment and the registered model as the real client reads them back."""
    c = MlflowClient(url)
    m = c.get_registered_model(model)
    versions = {}
    for v in c.search_model_versions(f"name='{model}'"):
        # The tool rewrites the source to the copy of the run's artifacts on each side: it names that run.
        run = c.get_run(v.run_id)
        assert v.run_id in v.source, (v.source, v.run_id)
        versions[v.version] = {"stage": v.current_stage, "description": v.description, "tags": v.tags, "run": run.info.run_name}
    return {
        "experiment": _experiment_snapshot(url, experiment),
        "model": {"description": m.description, "tags": m.tags, "versions": versions},
    }


@pytest.fixture
def peer_cairn():
    """A fresh Cairn (own store), keeping artifacts in a local folder as the tool's model import needs."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-exim-"))
    server = CairnServer(workdir, extra_args=["--no-serve-artifacts", "--default-artifact-root", str(workdir / "art")])
    with reference_servers.fresh_backend_store(workdir) as uri:
        server.backend_store_uri = uri
        server.start()
        try:
            yield server
        finally:
            server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def test_round_trip_through_mlflow_server_and_back(export_import, server_url, peer_cairn, tmp_path):
    src = _log_source(server_url, uuid.uuid4().hex[:8])
    original = _snapshot(server_url, src["experiment"], src["model"])

    _export(export_import, server_url, src["model"], tmp_path / "from-cairn")
    # What Cairn handed the tool: every run with its original times, the model with its alias.
    exported_runs = {}
    for run_json in (tmp_path / "from-cairn" / "experiments").glob("*/*/run.json"):
        info = json.loads(run_json.read_text())["mlflow"]["info"]
        exported_runs[info["run_name"]] = info
    assert {name: info["run_id"] for name, info in exported_runs.items()} == src["runs"]
    for name, rid in src["runs"].items():
        r = MlflowClient(server_url).get_run(rid)
        got = exported_runs[name]
        assert (got["start_time"], got["end_time"], got["status"]) == (r.info.start_time, r.info.end_time, r.info.status)
    assert exported_runs["run-1"]["status"] == "FAILED"
    model_json = json.loads((tmp_path / "from-cairn" / "models" / src["model"] / "model.json").read_text())
    registered = model_json["mlflow"]["registered_model"]
    assert registered["aliases"] == [{"alias": "champion", "version": "2"}]
    assert sorted((v["version"], v["current_stage"]) for v in registered["versions"]) == [("1", "Production"), ("2", "Staging")]

    with reference_servers.mlflow_server("--no-serve-artifacts", "--default-artifact-root", "{workdir}/art", prefix="cairn-exim-mlflow-") as mlflow_url:
        _import(export_import, mlflow_url, tmp_path / "from-cairn")
        assert _snapshot(mlflow_url, src["experiment"], src["model"]) == original
        _export(export_import, mlflow_url, src["model"], tmp_path / "from-mlflow")

    _import(export_import, peer_cairn.url, tmp_path / "from-mlflow")
    assert _snapshot(peer_cairn.url, src["experiment"], src["model"]) == original


def test_cairn_export_writes_the_tools_folder_layout(export_import, tmp_path):
    """`cairn export mlflow-export-import <folder>`: the tool's own `import-models` reads the folder
    into a real `mlflow server`, and the client finds the same runs, params, tags, every metric point
    (original timestamps) and artifact bytes there as in Cairn, and the registered model with every
    version, its stage, description, tags and run. Aliases are in the folder as the tool's export
    writes them (the tool's import does not set them); a prompt is listed as skipped."""
    workdir = tmp_path / "cairn"
    workdir.mkdir()
    store = CairnServer(workdir)
    out = tmp_path / "folder"
    with reference_servers.fresh_backend_store(workdir) as uri:
        store.backend_store_uri = uri
        store.start()
        try:
            src = _log_source(store.url, uuid.uuid4().hex[:8])
            MlflowClient(store.url).log_metric(src["runs"]["run-0"], "odd", float("nan"), step=3, timestamp=1_700_000_000_123)
            mlflow.set_tracking_uri(store.url)
            prompt = f"exim-prompt-{uuid.uuid4().hex[:6]}"
            mlflow.genai.register_prompt(prompt, "Hello {{name}}")
            original = _snapshot(store.url, src["experiment"], src["model"])
            aliases = MlflowClient(store.url).get_registered_model(src["model"]).aliases
        finally:
            store.stop()
        r = subprocess.run(
            ["node", str(_root_conftest.REPO / "bin" / "cairn.js"), "export", "mlflow-export-import", str(out),
             "--backend-store-uri", uri, "--data-dir", str(workdir), "--artifacts-destination", str(workdir / "artifacts")],
            cwd=_root_conftest.REPO, capture_output=True, text=True, timeout=300,
        )
    assert r.returncode == 0 and "exported: 2 experiments, 3 runs" in r.stdout and "2 versions" in r.stdout, r.stdout + r.stderr
    assert f"prompt '{prompt}'" in r.stdout and "skipped 1:" in r.stdout, r.stdout
    assert math.isnan(original["experiment"]["runs"]["run-0"]["history"]["odd"][0][2])
    registered = json.loads((out / "models" / src["model"] / "model.json").read_text())["mlflow"]["registered_model"]
    assert aliases == {"champion": "2"}
    assert registered["aliases"] == [{"alias": "champion", "version": "2"}]
    assert [(v["version"], v["current_stage"], v["aliases"]) for v in registered["versions"]] == [("1", "Production", []), ("2", "Staging", ["champion"])]

    with reference_servers.mlflow_server("--no-serve-artifacts", "--default-artifact-root", "{workdir}/art", prefix="cairn-exim-folder-") as mlflow_url:
        _import(export_import, mlflow_url, out)
        got = _snapshot(mlflow_url, src["experiment"], src["model"])
        # The version's files came along: the tool registered it from the run's copy of model/.
        v1 = MlflowClient(mlflow_url).get_model_version(src["model"], "1")
        assert v1.source.endswith("/artifacts/model") and pathlib.Path(v1.source, "notes.txt").read_text() == "hello "
    # NaN is not equal to itself: compare the NaN point by its text, the rest as is.
    for snap in (original["experiment"], got["experiment"]):
        snap["runs"]["run-0"]["history"]["odd"] = [(s, t, repr(v)) for s, t, v in snap["runs"]["run-0"]["history"]["odd"]]
        snap["runs"]["run-0"]["metrics"]["odd"] = repr(snap["runs"]["run-0"]["metrics"]["odd"])
    assert got == original
