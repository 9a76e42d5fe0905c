"""`cairn import wandb <url>` with artifacts: the real wandb client logs versions with aliases, tags,
metadata and files (one shared between versions, one of 3 MiB) to a Cairn acting as the W&B server,
and a run uses one; Cairn imports the project into a second, fresh store; `wandb.Api()` reads every
version on both sides, downloads them and compares contents, digests, aliases and lineage. A second
import changes nothing, and `--verify` passes, then fails once the copy is tampered with.
"""

from __future__ import annotations

import json
import pathlib

from test_import_wandb import _import, _key_for, dest  # noqa: F401 (dest is a fixture)
from test_wandb import ENTITY, make_wandb_env, project_name, run_python, wandb_key  # noqa: F401 (wandb_key is a fixture)

LOG = """
    import os, sys, json, wandb
    project, out = sys.argv[1], sys.argv[2]
    os.makedirs("data/sub", exist_ok=True)
    open("data/shared.txt", "w").write("in every version\\n")
    run = wandb.init(project=project, name="producer")
    for n, aliases in enumerate([["candidate"], ["best", "prod"]]):
        open("data/sub/part.txt", "w").write(f"version {n}\\n" * (n + 1))
        art = wandb.Artifact("dataset", type="dataset", metadata={"rows": n + 1}, description=f"take {n}")
        art.add_dir("data")
        run.log_artifact(art, aliases=aliases, tags=[f"tag{n}"]).wait()
    model = wandb.Artifact("weights", type="model", metadata={"layers": 3})
    with model.new_file("blob.bin", mode="wb") as f:
        f.write(os.urandom(3 * 1024 * 1024))
    run.log_artifact(model).wait()
    run.finish()
    consumer = wandb.init(project=project, name="consumer")
    consumer.use_artifact("dataset:candidate")
    consumer.finish()
    json.dump({"producer": run.id, "consumer": consumer.id}, open(out, "w"))
"""

READ = """
    import hashlib, json, os, sys, wandb
    path, root, out = sys.argv[1], sys.argv[2], sys.argv[3]
    api = wandb.Api(timeout=120)
    result = {}
    for type_, name in [("dataset", "dataset"), ("model", "weights")]:
        for a in api.artifacts(type_, f"{path}/{name}"):
            d = a.download(root=os.path.join(root, a.name.replace(":", "-")))
            files = {}
            for base, _, names in os.walk(d):
                for f in names:
                    p = os.path.join(base, f)
                    files[os.path.relpath(p, d)] = hashlib.sha256(open(p, "rb").read()).hexdigest()
            result[a.name] = {
                "version": a.version, "type": a.type, "aliases": sorted(a.aliases), "tags": sorted(a.tags),
                "digest": a.digest, "size": a.size, "file_count": a.file_count, "metadata": a.metadata,
                "description": a.description, "created_at": a.created_at,
                "manifest": {k: [e.digest, e.size] for k, e in a.manifest.entries.items()},
                "logged_by": a.logged_by().id, "used_by": sorted(r.id for r in a.used_by()),
                "files": files,
            }
    b = api.artifact(f"{path}/dataset:best")
    result["best"] = [b.version, sorted(b.aliases)]
    json.dump(result, open(out, "w"))
"""


def _read(tmp_path: pathlib.Path, url: str, key: str, project: str, name: str) -> dict:
    env = make_wandb_env(tmp_path, url, key)
    out = tmp_path / f"{name}.json"
    proc = run_python(tmp_path, env, READ, f"{ENTITY}/{project}", str(tmp_path / f"{name}-files"), str(out))
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def test_artifacts_come_over_with_versions_aliases_files_and_lineage(tmp_path, cairn_server, wandb_key, dest):
    project = project_name("import-art")
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    proc = run_python(tmp_path, env, LOG, project, str(tmp_path / "ids.json"))
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    ids = json.loads((tmp_path / "ids.json").read_text())

    dry = _import(cairn_server.url, wandb_key, dest, "--entity", ENTITY, "--project", project, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "3 artifact versions" in dry.stdout, dry.stdout

    first = _import(cairn_server.url, wandb_key, dest, "--entity", ENTITY, "--project", project)
    assert first.returncode == 0, first.stderr
    assert "2 runs" in first.stdout and "3 artifact versions" in first.stdout and "skipped" not in first.stdout, first.stdout

    dest.start()
    dest_key = _key_for(dest)
    source = _read(tmp_path, cairn_server.url, wandb_key, project, "source")
    copied = _read(tmp_path, dest.url, dest_key, project, "copy")
    assert sorted(source) == ["best", "dataset:v0", "dataset:v1", "weights:v0"]
    assert copied == source
    assert source["best"] == ["v1", ["best", "latest", "prod"]]
    assert source["dataset:v0"]["used_by"] == [ids["consumer"]] and source["weights:v0"]["logged_by"] == ids["producer"]
    assert source["weights:v0"]["size"] == 3 * 1024 * 1024

    # Idempotent: a second import changes nothing anyone can read.
    dest.stop()
    again = _import(cairn_server.url, wandb_key, dest, "--entity", ENTITY, "--project", project)
    assert again.returncode == 0, again.stderr
    dest.start()
    assert _read(tmp_path, dest.url, dest_key, project, "copy2") == copied

    # --verify: the copy matches; then someone logs into the copy and moves an alias, and it does not.
    dest.stop()
    ok = _import(cairn_server.url, wandb_key, dest, "--entity", ENTITY, "--project", project, "--verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "no difference" in ok.stdout, ok.stdout
    dest.start()
    proc = run_python(tmp_path, make_wandb_env(tmp_path, dest.url, dest_key), TAMPER, project, ids["producer"])
    assert proc.returncode == 0, proc.stderr
    dest.stop()
    bad = _import(cairn_server.url, wandb_key, dest, "--entity", ENTITY, "--project", project, "--verify")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    table = bad.stdout
    assert f"run {ENTITY}/{project}/{ids['producer']} history rows" in table, table
    assert "artifact dataset:v0 aliases" in table and "candidate,tampered" in table, table
    assert "differ" in table.splitlines()[-1], table


TAMPER = """
    import sys, wandb
    project, run_id = sys.argv[1], sys.argv[2]
    run = wandb.init(project=project, id=run_id, resume="must")
    run.log({"extra": 1})
    run.finish()
    a = wandb.Api().artifact(f"{run.entity}/{project}/dataset:v0")
    a.aliases.append("tampered")
    a.save()
"""


def test_an_import_killed_among_the_artifacts_resumes_without_duplicates(tmp_path, cairn_server, wandb_key, dest):
    import signal
    import subprocess
    import time

    from test_import_wandb import REPO

    project = project_name("import-art-kill")
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    proc = run_python(tmp_path, env, LOG, project, str(tmp_path / "ids.json"))
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"

    # SIGKILL as soon as the first artifact file's bytes are in the destination's store.
    blobs = dest.workdir / "artifacts" / "wandb-artifacts" / "md5"
    killed = subprocess.Popen(
        ["node", str(REPO / "bin" / "cairn.js"), "import", "wandb", cairn_server.url, "--api-key", wandb_key, "--entity", ENTITY, "--project", project,
         "--backend-store-uri", dest.backend_store_uri, "--data-dir", str(dest.workdir), "--artifacts-destination", str(dest.workdir / "artifacts")],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while killed.poll() is None and time.monotonic() < deadline and not (blobs.is_dir() and any(blobs.iterdir())):
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL, "the import ended before it could be killed among the artifacts"

    resumed = _import(cairn_server.url, wandb_key, dest, "--entity", ENTITY, "--project", project, "--verify")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "3 artifact versions" in resumed.stdout and "no difference" in resumed.stdout, resumed.stdout
    dest.start()
    copied = _read(tmp_path, dest.url, _key_for(dest), project, "copy")
    source = _read(tmp_path, cairn_server.url, wandb_key, project, "source")
    assert copied == source and sorted(copied) == ["best", "dataset:v0", "dataset:v1", "weights:v0"]
