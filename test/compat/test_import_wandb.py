"""`cairn import wandb <url>`: the real wandb client logs to a Cairn acting as the W&B server, Cairn
imports that project into a second, fresh store, and `wandb.Api()` and the mlflow client read both
sides and compare them: every history row, config, summary, system metrics, tags, notes, group, job
type, files, the run's id, name, state and times. A second import changes nothing.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import tempfile

import pytest
from mlflow import MlflowClient

import reference_servers
from test_wandb import ENTITY, make_wandb_env, project_name, run_python, wandb_key  # noqa: F401 (wandb_key is a fixture)

import importlib.util as _ilu
import sys

_spec = _ilu.spec_from_file_location("compat_root_conftest", pathlib.Path(__file__).with_name("conftest.py"))
_root_conftest = sys.modules.get("compat_root_conftest") or _ilu.module_from_spec(_spec)
if "compat_root_conftest" not in sys.modules:
    sys.modules[_spec.name] = _root_conftest
    _spec.loader.exec_module(_root_conftest)
REPO = _root_conftest.REPO
CairnServer = _root_conftest.CairnServer

LOG = """
    import json, sys, time
    import wandb

    project, out = sys.argv[1], sys.argv[2]
    ids = []
    for n in range(2):
        run = wandb.init(
            project=project, name=f"run-{n}", config={"lr": 0.01 * (n + 1), "opt": {"name": "adam", "betas": [0.9, 0.999]}},
            tags=["imported", f"t{n}"], notes=f"notes {n}", group="grp", job_type="train",
            settings=wandb.Settings(x_stats_sampling_interval=0.5),
        )
        for i in range(1200):
            wandb.log({"loss": 1.0 / (i + 1), "acc": {"top1": i / 1200}, "label": "s%d" % (i % 3)})
        time.sleep(2)  # some system metrics
        run.summary["best"] = 0.5 + n
        with open(f"notes-{n}.txt", "w") as f:
            f.write("saved " * (n + 1))
        wandb.save(f"notes-{n}.txt", policy="now")
        ids.append(run.id)
        run.finish(exit_code=n)  # the second run fails
    json.dump(ids, open(out, "w"))
"""

READ = """
    import json, sys
    import wandb

    path, out = sys.argv[1], sys.argv[2]
    api = wandb.Api(timeout=120)
    result = {}
    for r in api.runs(path):
        result[r.id] = {
            "name": r.name, "state": r.state, "tags": r.tags, "group": r.group, "job_type": r.job_type,
            "notes": r.notes, "config": r.config, "summary": {k: v for k, v in r.summary.items()},
            "created_at": r.created_at,
            "scan": list(r.scan_history(page_size=400)),
            "system": r.history(stream="system", samples=100000, pandas=False),
            "files": sorted((f.name, f.size, f.md5) for f in r.files()),
            "file_bodies": {f.name: open(f.download(root=out + "-files/" + r.id, replace=True).name, "rb").read().hex() for f in r.files() if f.name.startswith("notes-")},
        }
    json.dump(result, open(out, "w"), default=dict)
"""


def _key_for(server: CairnServer) -> str:
    out = subprocess.run(
        ["node", str(REPO / "bin" / "cairn.js"), "keys", "create", "--user", ENTITY,
         "--backend-store-uri", server.backend_store_uri, "--data-dir", str(server.workdir)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=True,
    )
    return out.stdout.strip()


def _import(src_url: str, key: str, dest: CairnServer, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["node", str(REPO / "bin" / "cairn.js"), "import", "wandb", src_url, "--api-key", key, *extra,
         "--backend-store-uri", dest.backend_store_uri, "--data-dir", str(dest.workdir),
         "--artifacts-destination", str(dest.workdir / "artifacts")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )


@pytest.fixture
def dest():
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-import-wandb-dst-"))
    server = CairnServer(workdir)
    with reference_servers.fresh_backend_store(workdir) as uri:
        server.backend_store_uri = uri
        yield server
        server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def _read(tmp_path: pathlib.Path, url: str, key: str, project: str, name: str) -> dict:
    env = make_wandb_env(tmp_path, url, key)
    out = tmp_path / f"{name}.json"
    proc = run_python(tmp_path, env, READ, f"{ENTITY}/{project}", str(out))
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def _mlflow_view(url: str, ids: list[str]) -> dict:
    c = MlflowClient(tracking_uri=url)
    out = {}
    for i in ids:
        r = c.get_run(i)
        out[i] = {
            "name": r.info.run_name, "status": r.info.status, "end": r.info.end_time,
            # W&B's public API gives a run's creation to the second (createdAt); the client's own start
            # (config _wandb.e startedAt) gives the milliseconds, at the source and in the copy alike.
            "start": r.info.start_time,
            "params": r.data.params, "metrics": r.data.metrics,
            "tags": {k: v for k, v in r.data.tags.items() if k.startswith("wandb.") or k in ("mlflow.note.content", "mlflow.runName")},
            "loss": sorted((m.step, m.value, m.timestamp) for m in c.get_metric_history(i, "loss")),
        }
    return out


def test_import_from_a_wandb_server_keeps_every_row_and_a_second_run_changes_nothing(tmp_path, cairn_server, wandb_key, dest):
    project = project_name("import")
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    proc = run_python(tmp_path, env, LOG, project, str(tmp_path / "ids.json"))
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    ids = json.loads((tmp_path / "ids.json").read_text())

    dry = _import(cairn_server.url, wandb_key, dest, "--entity", ENTITY, "--project", project, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would import: 1 projects, 2 runs, 2400 history rows" in dry.stdout

    first = _import(cairn_server.url, wandb_key, dest, "--entity", ENTITY, "--project", project)
    assert first.returncode == 0, first.stderr
    assert "imported: 1 projects, 2 runs, 2400 history rows" in first.stdout and "skipped" not in first.stdout, first.stdout

    dest.start()
    dest_key = _key_for(dest)
    source = _read(tmp_path, cairn_server.url, wandb_key, project, "source")
    copied = _read(tmp_path, dest.url, dest_key, project, "copy")
    assert sorted(copied) == sorted(ids)
    for i in ids:
        s, c = source[i], copied[i]
        assert len(c["scan"]) == 1200 and c["scan"] == s["scan"]
        assert s["system"] and c["system"] == s["system"]
        assert c["state"] == s["state"] and {s["state"] for s in source.values()} == {"finished", "failed"}
        for field in ("name", "tags", "group", "job_type", "notes", "config", "summary", "created_at", "files", "file_bodies"):
            assert c[field] == s[field], field
    mine, theirs = _mlflow_view(dest.url, ids), _mlflow_view(cairn_server.url, ids)
    for i in ids:
        for k in theirs[i]:
            assert mine[i][k] == theirs[i][k], (i, k, {x: (mine[i][k].get(x), theirs[i][k].get(x)) for x in set(mine[i][k]) | set(theirs[i][k]) if mine[i][k].get(x) != theirs[i][k].get(x)} if isinstance(theirs[i][k], dict) else None)

    # Idempotent: a second import of the same project changes nothing anyone can read.
    dest.stop()
    again = _import(cairn_server.url, wandb_key, dest, "--entity", ENTITY, "--project", project)
    assert again.returncode == 0, again.stderr
    dest.start()
    assert _read(tmp_path, dest.url, dest_key, project, "copy2") == copied


def test_a_wrong_key_is_one_line_naming_the_server(tmp_path, cairn_server, dest):
    proc = _import(cairn_server.url, "cairn-" + "0" * 40, dest, "--project", "whatever")
    assert proc.returncode == 2
    assert cairn_server.url in proc.stderr and "Traceback" not in proc.stderr and "    at " not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
