"""`cairn import tensorboard <logdir>`: tensorboardX (a real TensorBoard writer from PyPI) writes event
files, Cairn imports them, and the real mlflow client reads every point back from a Cairn server.

Covered: TF1-style scalars (`simple_value`, what tensorboardX and PyTorch write), TF2-style scalars
(a `tensor` with the `scalars` plugin, what tf.summary writes), their steps and wall times, the
hparams plugin's values (params), images and histograms (artifacts), run folders at any depth,
a second import that changes nothing, and truncated or corrupt files, which are named in the
summary while the records before the damage still come over.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import uuid

import numpy as np
import pytest
from mlflow import MlflowClient

import reference_servers

import importlib.util as _ilu

_spec = _ilu.spec_from_file_location("compat_root_conftest", pathlib.Path(__file__).with_name("conftest.py"))
_root_conftest = _ilu.module_from_spec(_spec)
sys.modules[_spec.name] = _root_conftest  # dataclasses look their module up there
_spec.loader.exec_module(_root_conftest)
REPO = _root_conftest.REPO
CairnServer = _root_conftest.CairnServer

T0 = 1_700_000_000.0  # wall times are given to the writer, so the expected timestamps are exact


@pytest.fixture(scope="module")
def tbx():
    """tensorboardX, installed beside the venv (reference_servers.pip_target)."""
    sys.path.insert(0, str(reference_servers.pip_target(pathlib.Path(__file__).with_name("tensorboard-requirements.txt"))))
    import tensorboardX

    return tensorboardX


@pytest.fixture
def dest():
    """A fresh destination store (its own PGlite folder or Postgres database)."""
    with reference_servers.fresh_cairn(CairnServer, "cairn-import-tb-") as server:
        yield server


@pytest.fixture
def logdir():
    folder = pathlib.Path(tempfile.mkdtemp(prefix="cairn-tb-logs-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _import(logdir: pathlib.Path, dest: CairnServer, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["node", str(REPO / "bin" / "cairn.js"), "import", "tensorboard", str(logdir),
         "--backend-store-uri", dest.backend_store_uri, "--data-dir", str(dest.workdir),
         "--artifacts-destination", str(dest.workdir / "artifacts"), *extra],
        cwd=REPO, capture_output=True, text=True, check=check, timeout=300,
    )


def _write_logs(tbx, logdir: pathlib.Path) -> dict:
    """Three runs, as a training script would leave them; returns every point and file they should become."""
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
    from tensorboardX.proto.tensor_pb2 import TensorProto
    from tensorboardX.summary import image as image_summary

    expected: dict = {"train": {}, "train/hp": {}, "eval/tf2": {}}
    w = tbx.SummaryWriter(str(logdir / "train"))
    loss, lr = [], []
    for step in range(200):
        value = float(np.float32(1.0 / (step + 1)))  # simple_value is a float32
        w.add_scalar("loss", value, step, walltime=T0 + step * 0.5)
        loss.append((step, round((T0 + step * 0.5) * 1000), value))
        if step % 50 == 0:
            w.add_scalar("opt/lr", 0.25 / (step + 1), step, walltime=T0 + step * 0.5 + 0.001)
            lr.append((step, round((T0 + step * 0.5 + 0.001) * 1000), float(np.float32(0.25 / (step + 1)))))
    weights = np.arange(100, dtype=np.float64)
    w.add_histogram("weights", weights, 0, walltime=T0 + 1)
    w.add_histogram("weights", weights * 2, 1, walltime=T0 + 2)
    picture = (np.arange(3 * 8 * 8) % 255).astype(np.uint8).reshape(3, 8, 8)
    w.add_image("sample", picture, 7, walltime=T0 + 3)
    png = image_summary("sample", picture).value[0].image.encoded_image_string
    # The hparams plugin: tensorboardX writes the session into a sub-folder of the run, its own run.
    w.add_hparams({"lr": 0.01, "optimizer": "adam", "layers": 3, "batch_norm": True}, {"hparam/accuracy": 0.93}, name="hp", global_step=5)
    w.close()
    expected["train"] = {"metrics": {"loss": loss, "opt/lr": lr}, "start": round(T0 * 1000), "end": round((T0 + 99.5) * 1000), "png": png, "weights": [100, 100]}
    expected["train/hp"] = {"params": {"lr": "0.01", "optimizer": "adam", "layers": "3", "batch_norm": "true"}, "metrics": {"hparam/accuracy": [(5, None, float(np.float32(0.93)))]}}

    # TF2's form: the value is a tensor (here a double) and the plugin says it is a scalar.
    w = tbx.SummaryWriter(str(logdir / "eval" / "tf2"))
    acc = []
    for i in range(30):
        step = i * 1000 + 2**33  # an int64 step beyond 32 bits
        value = 0.5 + i / 97
        meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
        w.file_writer.add_summary(Summary(value=[Summary.Value(tag="accuracy", metadata=meta, tensor=TensorProto(dtype=2, double_val=[value]))]), step, T0 + 10 + i)
        acc.append((step, round((T0 + 10 + i) * 1000), value))
    w.close()
    expected["eval/tf2"] = {"metrics": {"accuracy": acc}}
    return expected


def _history(c: MlflowClient, run_id: str, key: str) -> list[tuple]:
    return sorted((m.step, m.timestamp, m.value) for m in c.get_metric_history(run_id, key))


def test_import_keeps_every_point_and_a_second_run_changes_nothing(tbx, logdir, dest):
    expected = _write_logs(tbx, logdir)
    name = f"tb-{uuid.uuid4().hex[:8]}"

    dry = _import(logdir, dest, "--experiment", name, "--dry-run")
    assert "would import: 1 experiments, 3 runs, 235 metric points, 2 artifacts" in dry.stdout, dry.stdout + dry.stderr
    first = _import(logdir, dest, "--experiment", name, "--verify")
    assert "imported: 1 experiments, 3 runs, 235 metric points, 2 artifacts" in first.stdout, first.stdout + first.stderr
    assert "no difference" in first.stdout and "skipped" not in first.stdout, first.stdout
    again = _import(logdir, dest, "--experiment", name, "--verify")
    assert "no difference" in again.stdout, again.stdout

    dest.start()
    c = MlflowClient(dest.url)
    exp = c.get_experiment_by_name(name)
    runs = {r.info.run_name: r for r in c.search_runs([exp.experiment_id])}
    assert sorted(runs) == sorted(expected), "each run folder is one run, named by its path (the second import added none)"
    for run_name, want in expected.items():
        run = runs[run_name]
        assert run.info.status == "FINISHED"
        assert run.data.tags["tensorboard.run"] == run_name
        assert run.data.params == want.get("params", {})
        assert sorted(run.data.metrics) == sorted(want["metrics"])
        for key, points in want["metrics"].items():
            got = _history(c, run.info.run_id, key)
            if points[0][1] is None:  # the hparams metric's wall time is the writer's clock
                got = [(s, None, v) for s, _, v in got]
            assert got == points, f"{run_name} {key}"
    train = runs["train"].info
    assert (train.start_time, train.end_time) == (expected["train"]["start"], expected["train"]["end"])

    files = {f.path for f in c.list_artifacts(train.run_id, "images/sample")} | {f.path for f in c.list_artifacts(train.run_id, "histograms")}
    assert files == {"images/sample/step-7.png", "histograms/weights.json"}
    out = pathlib.Path(tempfile.mkdtemp())
    assert pathlib.Path(c.download_artifacts(train.run_id, "images/sample/step-7.png", str(out))).read_bytes() == expected["train"]["png"]
    hist = json.loads(pathlib.Path(c.download_artifacts(train.run_id, "histograms/weights.json", str(out))).read_text())
    assert [(h["step"], h["num"], h["max"]) for h in hist] == [(0, 100, 99), (1, 100, 198)]
    assert sum(hist[1]["bucket"]) == 100
    shutil.rmtree(out, ignore_errors=True)


def test_damaged_files_are_named_and_the_good_records_still_come_over(tbx, logdir, dest):
    points = 40
    for run in ("good", "cut", "flipped"):
        w = tbx.SummaryWriter(str(logdir / run))
        for step in range(points):
            w.add_scalar("loss", float(step), step, walltime=T0 + step)
        w.close()
    cut = next((logdir / "cut").glob("*tfevents*"))
    cut.write_bytes(cut.read_bytes()[:-7])  # ends inside the last record
    flipped = next((logdir / "flipped").glob("*tfevents*"))
    data = bytearray(flipped.read_bytes())
    data[-10] ^= 0xFF  # inside the last record's data: its checksum no longer matches
    flipped.write_bytes(data)

    r = _import(logdir, dest, "--experiment", "damaged")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert f"imported: 1 experiments, 3 runs, {3 * points - 2} metric points" in r.stdout, r.stdout
    assert f"  {cut}: truncated:" in r.stdout and f"  {flipped}: corrupt: bad data checksum" in r.stdout, r.stdout

    dest.start()
    c = MlflowClient(dest.url)
    runs = {r.info.run_name: r.info.run_id for r in c.search_runs([c.get_experiment_by_name("damaged").experiment_id])}
    assert len(c.get_metric_history(runs["good"], "loss")) == points
    assert _history(c, runs["cut"], "loss") == [(s, round((T0 + s) * 1000), float(s)) for s in range(points - 1)]
    assert len(c.get_metric_history(runs["flipped"], "loss")) == points - 1


def test_a_missing_or_empty_logdir_is_one_line(logdir, dest):
    for where, says in ((logdir / "nope", "is not a folder"), (logdir, "no TensorBoard event files")):
        r = _import(where, dest, check=False)
        assert r.returncode == 2, r.stdout + r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and str(where) in lines[0] and says in lines[0], r.stderr
