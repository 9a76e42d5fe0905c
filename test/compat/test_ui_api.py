"""The UI's own endpoints (/api/2.0/cairn/ui) over a run logged by the real wandb==0.31.0 client.

The run logs what the run page shows: scalars, wandb.Image, a list of images, wandb.Table,
wandb.Histogram, wandb.plot.confusion_matrix and print() output; the test then reads it back the
way the UI does, so media and console output are found where this client actually puts them.
"""

from __future__ import annotations

import json

import requests

from test_wandb import make_wandb_env, project_name, run_python, wandb_key  # noqa: F401 (fixture)

MEDIA_RUN = """
    import json, sys
    import numpy as np
    import wandb

    project, out = sys.argv[1], sys.argv[2]
    run = wandb.init(project=project, name="media-run", group="grp", job_type="eval", config={"lr": 0.1})
    print("hello from print")
    for i in range(3):
        print(f"step {i}")
        wandb.log({
            "loss": 1.0 / (i + 1),
            "img": wandb.Image(np.full((16, 24, 3), i * 40, dtype=np.uint8), caption=f"img {i}"),
            "imgs": [wandb.Image(np.zeros((8, 8, 3), dtype=np.uint8), caption=f"m{j}") for j in range(2)],
            "tbl": wandb.Table(columns=["a", "b"], data=[[i, "x"], [i + 1, "y"]]),
            "hist": wandb.Histogram(np.arange(100) % (i + 5)),
        })
    wandb.log({"cm": wandb.plot.confusion_matrix(y_true=[0, 1, 1, 0], preds=[0, 1, 0, 0], class_names=["cat", "dog"])})
    json.dump({"id": run.id, "entity": run.entity}, open(out, "w"))
    run.finish()
"""


def test_ui_endpoints_read_a_real_wandb_run(tmp_path, cairn_server, wandb_key):  # noqa: F811
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    project = project_name("ui")
    proc = run_python(tmp_path, env, MEDIA_RUN, project, str(tmp_path / "run.json"))
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n{cairn_server.log_tail()}"
    info = json.loads((tmp_path / "run.json").read_text())
    ui = f"{cairn_server.url}/api/2.0/cairn/ui"

    # The W&B URL the client printed resolves to the run.
    resolved = requests.get(f"{ui}/wandb/resolve", params={"entity": info["entity"], "project": project, "run": info["id"]}, timeout=30)
    assert resolved.status_code == 200, resolved.text
    run_id = resolved.json()["run_id"]
    experiment_id = resolved.json()["experiment_id"]

    # Console output as printed, without the client's timestamps, complete once the run finished.
    out = requests.get(f"{ui}/runs/output", params={"run_id": run_id}, timeout=30).json()
    assert out["text"] == "hello from print\nstep 0\nstep 1\nstep 2\n"
    assert out["complete"] is True
    assert out["next_offset"] == len(out["text"].encode())

    # Media by step, with the files the client uploaded.
    media = requests.get(f"{ui}/runs/media", params={"run_id": run_id}, timeout=30).json()
    kinds = sorted({(i["key"], i["type"]) for i in media["items"]})
    assert kinds == [("cm", "confusion_matrix"), ("hist", "histogram"), ("img", "image"), ("imgs", "images"), ("tbl", "table")]
    images = [i for i in media["items"] if i["key"] == "img"]
    assert [(i["step"], i["caption"], i["width"], i["height"]) for i in images] == [(0, "img 0", 24, 16), (1, "img 1", 24, 16), (2, "img 2", 24, 16)]
    png = requests.get(f"{ui}/runs/file", params={"run_id": run_id, "path": images[0]["file_path"]}, timeout=30)
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png" and png.content[:4] == b"\x89PNG"
    assert png.headers["X-Content-Type-Options"] == "nosniff"
    for group in (i for i in media["items"] if i["key"] == "imgs"):
        assert len(group["value"]["filenames"]) == 2 and group["value"]["captions"] == ["m0", "m1"]
        first = requests.get(f"{ui}/runs/file", params={"run_id": run_id, "path": group["value"]["filenames"][0]}, timeout=30)
        assert first.status_code == 200 and first.content[:4] == b"\x89PNG"
    tables = [i for i in media["items"] if i["key"] == "tbl"]
    assert [t["value"]["data"] for t in tables] == [[[0, "x"], [1, "y"]], [[1, "x"], [2, "y"]], [[2, "x"], [3, "y"]]]
    assert all(t["value"]["columns"] == ["a", "b"] for t in tables)
    hist = [i for i in media["items"] if i["key"] == "hist"]
    assert len(hist) == 3 and all(len(h["value"]["bins"]) == len(h["value"]["values"]) + 1 for h in hist)
    [cm] = [i for i in media["items"] if i["type"] == "confusion_matrix"]
    assert cm["table_key"] == "cm_table" and cm["value"]["columns"] == ["Actual", "Predicted", "nPredictions"]
    assert sorted(map(tuple, cm["value"]["data"])) == [("cat", "cat", 2), ("cat", "dog", 0), ("dog", "cat", 1), ("dog", "dog", 1)]

    # Charts: the logged scalar, and the system metrics the client sampled.
    columns = requests.get(f"{ui}/experiments/columns", params={"experiment_ids": experiment_id}, timeout=30).json()
    assert "loss" in columns["metrics"] and "lr" in columns["params"]
    assert {"wandb.group", "wandb.job_type"} <= set(columns["tags"])
    series = requests.post(f"{ui}/metrics/series", json={"run_ids": [run_id], "keys": ["loss"]}, timeout=30).json()["series"][0]
    assert [(p["step"], p["value"]) for p in series["points"]] == [(0, 1.0), (1, 0.5), (2, 1.0 / 3)]

    # The runs table: the run, counted, and grouped by its W&B group.
    page = requests.post(f"{ui}/runs/search", json={"experiment_ids": [experiment_id], "filter": "tags.`wandb.job_type` = 'eval'"}, timeout=30).json()
    assert page["total_count"] == 1 and page["runs"][0]["info"]["run_id"] == run_id
    groups = requests.post(
        f"{ui}/runs/groups", json={"experiment_ids": [experiment_id], "group_by": {"kind": "tag", "key": "wandb.group"}, "metrics": ["loss"]}, timeout=30
    ).json()["groups"]
    assert groups == [{"value": "grp", "run_count": 1, "metrics": {"loss": {"min": 1.0 / 3, "max": 1.0 / 3, "mean": 1.0 / 3}}}]
