"""`cairn import wandb <folder>`: the real wandb client writes a run with WANDB_MODE=offline (a record
log `run-<id>.wandb` and a `files/` folder), Cairn imports the folder into a fresh store, and
`wandb.Api()` reads it back: what was logged (config, every history row, tags, notes, group, job type,
summary, system metrics, the saved file, the state) and what `wandb sync` of the same folder gives.
A second import changes nothing; a cut log imports its records before the cut and names the file.
"""

from __future__ import annotations

import json
import pathlib
import shutil

from test_import_wandb import READ, _key_for, dest  # noqa: F401 (dest is a fixture)
from test_wandb import ENTITY, make_wandb_env, project_name, run_python, wandb_cli, wandb_key  # noqa: F401 (wandb_key is a fixture)
from test_import_wandb import REPO

ROWS = 200

LOG = """
    import json, sys, time
    import wandb

    run = wandb.init(
        project="offline-src", name="off-run", config={"lr": 0.01, "opt": {"name": "adam", "betas": [0.9, 0.999]}},
        tags=["offline", "t0"], notes="written offline", group="grp", job_type="train",
        settings=wandb.Settings(x_stats_sampling_interval=0.5),
    )
    for i in range(%d):
        wandb.log({"loss": 1.0 / (i + 1), "acc": {"top1": i / 200}, "label": "s%%d" %% (i %% 3)})
    time.sleep(2)  # some system metrics
    run.config.update({"late": "yes"})
    run.summary["best"] = 0.5
    with open("notes-offline.txt", "w") as f:
        f.write("saved offline")
    wandb.save("notes-offline.txt", policy="now")
    json.dump({"id": run.id, "dir": run.dir}, open(sys.argv[1], "w"))
    run.finish()
""" % ROWS


def _import(folder: pathlib.Path, dest, *extra: str):
    import subprocess

    return subprocess.run(
        ["node", str(REPO / "bin" / "cairn.js"), "import", "wandb", str(folder), "--entity", ENTITY, *extra,
         "--backend-store-uri", dest.backend_store_uri, "--data-dir", str(dest.workdir),
         "--artifacts-destination", str(dest.workdir / "artifacts")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )


def _read(tmp_path: pathlib.Path, url: str, key: str, project: str, name: str) -> dict:
    env = make_wandb_env(tmp_path, url, key)
    out = tmp_path / f"{name}.json"
    proc = run_python(tmp_path, env, READ, f"{ENTITY}/{project}", str(out))
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text())


def _log_offline(tmp_path: pathlib.Path, url: str, key: str) -> tuple[str, pathlib.Path]:
    env = make_wandb_env(tmp_path, url, key)
    env["WANDB_MODE"] = "offline"
    proc = run_python(tmp_path, env, LOG, str(tmp_path / "run.json"))
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    info = json.loads((tmp_path / "run.json").read_text())
    folder = pathlib.Path(info["dir"]).parent
    assert folder.name.startswith("offline-run-") and (folder / f"run-{info['id']}.wandb").is_file()
    return info["id"], folder


def test_an_offline_run_imports_as_logged_and_as_wandb_sync_sends_it(tmp_path, cairn_server, wandb_key, dest):
    run_id, folder = _log_offline(tmp_path, cairn_server.url, wandb_key)
    project, synced_project = project_name("offline"), project_name("synced")

    dry = _import(folder.parent, dest, "--project", project, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would import: 1 projects, 1 runs, {ROWS} history rows" in dry.stdout, dry.stdout

    # The ./wandb folder (every offline run in it) and one run folder name the same run.
    first = _import(folder.parent, dest, "--project", project)
    assert first.returncode == 0, first.stderr
    assert f"imported: 1 projects, 1 runs, {ROWS} history rows" in first.stdout and "skipped" not in first.stdout, first.stdout

    # The same folder through the client's own `wandb sync`, into the session's Cairn. A copy: the sync
    # writes config.yaml, wandb-summary.json and wandb-metadata.json into the folder's files/.
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    to_sync = shutil.copytree(folder, tmp_path / "to-sync" / folder.name)
    sync = wandb_cli(tmp_path, env, "sync", "--entity", ENTITY, "--project", synced_project, str(to_sync))
    assert sync.returncode == 0, f"{sync.stdout}\n{sync.stderr}"

    dest.start()
    key = _key_for(dest)
    mine = _read(tmp_path, dest.url, key, project, "imported")[run_id]
    synced = _read(tmp_path, cairn_server.url, wandb_key, synced_project, "synced")[run_id]

    # What was logged.
    assert mine["name"] == "off-run" and mine["state"] == "finished"
    assert mine["tags"] == ["offline", "t0"] and mine["notes"] == "written offline"
    assert mine["group"] == "grp" and mine["job_type"] == "train"
    assert {k: v for k, v in mine["config"].items() if not k.startswith("_")} == {"lr": 0.01, "opt": {"name": "adam", "betas": [0.9, 0.999]}, "late": "yes"}
    assert [r["_step"] for r in mine["scan"]] == list(range(ROWS))
    assert [r["loss"] for r in mine["scan"]] == [1.0 / (i + 1) for i in range(ROWS)]
    assert [r["acc.top1"] for r in mine["scan"]] == [i / 200 for i in range(ROWS)]
    assert [r["label"] for r in mine["scan"]] == ["s%d" % (i % 3) for i in range(ROWS)]
    assert mine["summary"]["best"] == 0.5 and mine["summary"]["loss"] == 1.0 / ROWS and mine["summary"]["_step"] == ROWS - 1
    assert mine["system"] and all(any(k.startswith("system.") for k in row) for row in mine["system"])
    assert bytes.fromhex(mine["file_bodies"]["notes-offline.txt"]) == b"saved offline"

    # What `wandb sync` gives for the same folder.
    assert mine["scan"] == synced["scan"]
    for field in ("name", "state", "tags", "notes", "group", "job_type", "file_bodies"):
        assert mine[field] == synced[field], field
    assert {k: v for k, v in mine["config"].items() if k != "_wandb"} == {k: v for k, v in synced["config"].items() if k != "_wandb"}
    assert {k: v for k, v in mine["summary"].items() if k != "_wandb"} == {k: v for k, v in synced["summary"].items() if k != "_wandb"}
    # Equal but for the last bit of a float: `wandb sync` sends the numbers as wandb-core formats them
    # (1.5682492780000001), the import as the log holds them (1.568249278).
    # `wandb sync` can also leave out the log's last system sample (a CI run of 2026-12-04: the
    # import had one more, the sample 0.5 s after the previous one; the log holds it before the exit
    # record). The import keeps every sample the log holds.
    mine_system, synced_system = _to_12_digits(mine["system"]), _to_12_digits(synced["system"])
    assert len(mine_system) - len(synced_system) in (0, 1)
    assert mine_system[: len(synced_system)] == synced_system
    # The files the sync writes into files/ are the only ones the import does not bring.
    assert {tuple(f) for f in synced["files"] if f[0] not in ("wandb-summary.json", "config.yaml", "wandb-metadata.json")} == set(map(tuple, mine["files"]))

    # Idempotent: a second import changes nothing anyone can read.
    dest.stop()
    again = _import(folder, dest, "--project", project)
    assert again.returncode == 0, again.stderr
    assert f"imported: 1 projects, 1 runs, {ROWS} history rows" in again.stdout, again.stdout
    dest.start()
    assert _read(tmp_path, dest.url, key, project, "imported2")[run_id] == mine

    # A log cut mid-record: the records before the cut are imported, and the message names the file.
    dest.stop()
    cut = tmp_path / "cut" / folder.name
    shutil.copytree(folder, cut)
    log = cut / f"run-{run_id}.wandb"
    data = log.read_bytes()
    log.write_bytes(data[: _inside_a_chunk(data)])
    cut_project = project_name("cut")
    partial = _import(cut, dest, "--project", cut_project)
    assert partial.returncode == 0, partial.stderr
    assert str(log) in partial.stdout and "ends inside" in partial.stdout, partial.stdout
    dest.start()
    got = _read(tmp_path, dest.url, key, cut_project, "cut")[run_id]
    assert 0 < len(got["scan"]) < ROWS and got["scan"] == mine["scan"][: len(got["scan"])]
    assert got["state"] in ("crashed", "failed") and got["config"]["lr"] == 0.01


def _inside_a_chunk(data: bytes) -> int:
    """A length that cuts the run log one byte into the first chunk starting at or after its middle.
    Half the file's length fell on a chunk boundary once in a while, and a log that ends between two
    records reads as a run killed there, with nothing to report. The framing walked here is the one
    src/importers/wandb/record-log.ts documents: a 7-byte file header, then 32 KiB blocks of chunks
    (4-byte CRC, 2-byte length, 1-byte type, data), a block's tail under 7 bytes being padding."""
    block, header = 32 * 1024, 7
    at = header
    while at < len(data):
        left = block - at % block
        if left < header:
            at += left
            continue
        if at >= len(data) // 2:
            return at + 1
        at += header + int.from_bytes(data[at + 4 : at + 6], "little")
    raise AssertionError("the run log has no chunk after its middle")


def test_a_folder_without_runs_is_one_line_naming_it(tmp_path, dest):
    empty = tmp_path / "wandb"
    empty.mkdir()
    proc = _import(empty, dest)
    assert proc.returncode == 2
    assert str(empty) in proc.stderr and "Traceback" not in proc.stderr and "    at " not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def _to_12_digits(rows):
    return [{k: float(f"{v:.12g}") if isinstance(v, float) else v for k, v in row.items()} for row in rows]


VERIFY_TAMPER = """
    import sys, wandb
    project, run_id = sys.argv[1], sys.argv[2]
    run = wandb.init(project=project, id=run_id, resume="allow")
    run.log({"extra": 1})
    run.finish()
"""


def test_verify_compares_the_offline_folder_with_the_copy(tmp_path, cairn_server, wandb_key, dest):
    run_id, folder = _log_offline(tmp_path, cairn_server.url, wandb_key)
    project = project_name("offline-verify")
    ok = _import(folder.parent, dest, "--project", project, "--verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "verify:" in ok.stdout and "no difference" in ok.stdout, ok.stdout

    # A row logged into the copy afterwards: the re-import leaves it, and --verify reports it.
    dest.start()
    env = make_wandb_env(tmp_path, dest.url, _key_for(dest))
    proc = run_python(tmp_path, env, VERIFY_TAMPER, project, run_id)
    assert proc.returncode == 0, proc.stderr
    dest.stop()
    bad = _import(folder.parent, dest, "--project", project, "--verify")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert f"run {ENTITY}/{project}/{run_id} history rows" in bad.stdout and f"{ROWS} " in bad.stdout, bad.stdout


RESUME = """
    import sys, wandb
    project, run_id = sys.argv[1], sys.argv[2]
    run = wandb.init(project=project, id=run_id, resume="must")
    run.log({"loss": -1.0})
    run.finish()
"""


def test_an_imported_offline_run_resumes_with_resume_must(tmp_path, cairn_server, wandb_key, dest):
    # wandb-core resumes only a run whose config carries the client's telemetry (`_wandb.t`); the
    # import builds it from the log's telemetry records, as the client's sender does.
    run_id, folder = _log_offline(tmp_path, cairn_server.url, wandb_key)
    project = project_name("offline-resume")
    assert _import(folder, dest, "--project", project).returncode == 0
    dest.start()
    key = _key_for(dest)
    proc = run_python(tmp_path, make_wandb_env(tmp_path, dest.url, key), RESUME, project, run_id)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    got = _read(tmp_path, dest.url, key, project, "resumed")[run_id]
    assert [r["_step"] for r in got["scan"]] == list(range(ROWS + 1))
    assert got["scan"][-1]["loss"] == -1.0 and got["config"]["lr"] == 0.01
