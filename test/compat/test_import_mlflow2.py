"""`cairn import mlflow sqlite:///mlflow.db` of a database written by MLflow 2.x: mlflow 2.22.0 (from
PyPI, pinned in mlflow2-requirements.txt, installed beside the compat venv and put first on
PYTHONPATH of the processes that use it) logs experiments, runs, metric histories, datasets,
artifacts and a registered model (versions, a stage, an alias) into a sqlite file with its own schema
migrations. Cairn imports the file with `--verify`; then the 2.22 client reads the database and the
3.18 client reads a Cairn server on the imported store, with the same script, and the two readings
must be equal, ids and original times included. A second import changes nothing.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap

import pytest

import reference_servers
from test_import_mlflow import CairnServer, REPO

HERE = pathlib.Path(__file__).resolve().parent

LOG = """
    import sys
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities import Metric

    uri = sys.argv[1]
    assert mlflow.__version__ == "2.22.0", mlflow.__version__
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    c = MlflowClient(uri, uri)
    exp = c.create_experiment("m2-exp", tags={"team": "ml"})
    ids = []
    for i in range(3):
        with mlflow.start_run(experiment_id=exp, run_name=f"run-{i}") as r:
            mlflow.log_params({"lr": 0.1 * (i + 1), "i": i})
            mlflow.set_tags({"k": str(i)})
            c.log_batch(r.info.run_id, metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(300)])
            mlflow.log_metric("odd", float("nan"), step=1)
            mlflow.log_text("hello " * (i + 1), "model/notes.txt")
            mlflow.log_dict({"i": i}, "cfg/config.json")
            ds = mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2, 3]}), source="s3://bucket/data.csv", name="train")
            mlflow.log_input(ds, context="training")
            ids.append(r.info.run_id)
    c.set_terminated(ids[1], "FAILED")
    c.delete_run(ids[2])
    dead = c.create_experiment("m2-dead")
    with mlflow.start_run(experiment_id=dead):
        mlflow.log_param("p", 1)
    c.delete_experiment(dead)
    c.create_registered_model("m2-model", tags={"owner": "ml"}, description="the model")
    for n in (0, 1):
        c.create_model_version("m2-model", f"runs:/{ids[n]}/model", run_id=ids[n], tags={"from": str(n)}, description=f"v{n}")
    c.transition_model_version_stage("m2-model", "1", "Production")
    c.set_registered_model_alias("m2-model", "champion", "2")
"""

SNAPSHOT = """
    import json, pathlib, sys, tempfile
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import ViewType

    uri, out = sys.argv[1], sys.argv[2]
    c = MlflowClient(uri, uri)
    res = {"experiments": {}, "models": {}}
    for e in c.search_experiments(view_type=ViewType.ALL):
        if e.name == "Default":
            continue
        runs = {}
        for r in c.search_runs([e.experiment_id], run_view_type=ViewType.ALL):
            rid = r.info.run_id
            files, stack = {}, [""]
            while stack:
                for f in c.list_artifacts(rid, stack.pop() or None):
                    if f.is_dir:
                        stack.append(f.path)
                    else:
                        files[f.path] = [f.file_size, pathlib.Path(c.download_artifacts(rid, f.path, tempfile.mkdtemp())).read_text()]
            runs[rid] = {
                "name": r.info.run_name, "status": r.info.status, "start": r.info.start_time, "end": r.info.end_time,
                "lifecycle": r.info.lifecycle_stage, "user": r.info.user_id, "params": r.data.params, "tags": r.data.tags,
                "history": {k: [[m.step, m.timestamp, repr(m.value)] for m in sorted(c.get_metric_history(rid, k), key=lambda m: (m.step, m.timestamp))] for k in r.data.metrics},
                "inputs": sorted([d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.source, [[t.key, t.value] for t in d.tags]] for d in (r.inputs.dataset_inputs if r.inputs else [])),
                "files": files,
            }
        res["experiments"][e.name] = {"tags": e.tags, "lifecycle": e.lifecycle_stage, "created": e.creation_time, "runs": runs}
    for m in c.search_registered_models():
        versions = {v.version: {"stage": v.current_stage, "description": v.description, "tags": v.tags, "run_id": v.run_id, "created": v.creation_timestamp}
                    for v in c.search_model_versions(f"name='{m.name}'")}
        res["models"][m.name] = {"description": m.description, "tags": m.tags, "aliases": {k: str(v) for k, v in m.aliases.items()}, "created": m.creation_timestamp, "versions": versions}
    # (2.22's client gives an alias's version as an int, 3.18's as a string.)
    json.dump(res, open(out, "w"), indent=1, sort_keys=True)
"""


@pytest.fixture(scope="module")
def mlflow2() -> pathlib.Path:
    return reference_servers.pip_target(HERE / "mlflow2-requirements.txt")


@pytest.fixture
def dest():
    with reference_servers.fresh_cairn(CairnServer, "cairn-import-m2-") as server:
        yield server


def _python(cwd: pathlib.Path, code: str, *args: str, pythonpath: pathlib.Path | None = None) -> None:
    script = cwd / f"script-{len(list(cwd.glob('script-*')))}.py"
    script.write_text(textwrap.dedent(code))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | {"MLFLOW_DISABLE_TELEMETRY": "true"}
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    r = subprocess.run([sys.executable, str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def _import(db: pathlib.Path, dest: CairnServer) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["node", str(REPO / "bin" / "cairn.js"), "import", "mlflow", f"sqlite:///{db}", "--verify",
         "--backend-store-uri", dest.backend_store_uri, "--data-dir", str(dest.workdir),
         "--artifacts-destination", str(dest.workdir / "artifacts")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )


def test_an_mlflow_2_sqlite_database_imports_whole(mlflow2, dest, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    db = src / "mlflow.db"
    _python(src, LOG, f"sqlite:///{db}", pythonpath=mlflow2)

    first = _import(db, dest)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "4 runs, 903 metric points, 6 artifacts" in first.stdout and "2 versions" in first.stdout, first.stdout
    assert "verify:" in first.stdout and "no difference" in first.stdout, first.stdout

    _python(src, SNAPSHOT, f"sqlite:///{db}", str(tmp_path / "source.json"), pythonpath=mlflow2)
    dest.start()
    try:
        _python(tmp_path, SNAPSHOT, dest.url, str(tmp_path / "copy.json"))
    finally:
        dest.stop()
    source, copy = (json.loads((tmp_path / n).read_text()) for n in ("source.json", "copy.json"))
    assert set(source["experiments"]) == {"m2-exp", "m2-dead"} and source["experiments"]["m2-dead"]["lifecycle"] == "deleted"
    runs = source["experiments"]["m2-exp"]["runs"]
    assert sorted(r["status"] for r in runs.values()) == ["FAILED", "FINISHED", "FINISHED"]
    assert all(len(r["history"]["loss"]) == 300 and r["inputs"] for r in runs.values())
    assert source["models"]["m2-model"]["aliases"] == {"champion": "2"}
    assert copy == source

    again = _import(db, dest)
    assert again.returncode == 0 and "no difference" in again.stdout, again.stdout + again.stderr
    dest.start()
    try:
        _python(tmp_path, SNAPSHOT, dest.url, str(tmp_path / "copy2.json"))
    finally:
        dest.stop()
    assert json.loads((tmp_path / "copy2.json").read_text()) == copy
