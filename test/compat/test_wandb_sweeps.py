"""W&B sweeps with the real wandb==0.31.0 client: `wandb.sweep` + `wandb.agent(function=...)`, the
seed's sweep YAML through `wandb sweep` and two parallel `wandb agent --count` processes, sweep
control (--pause/--resume/--stop/--cancel), `api.sweep(...)`, hyperband stopping runs, a finished
grid sweep, bad configs refused with the client's own error, and the MLflow view of a sweep."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import mlflow
import yaml

from test_wandb import ENTITY, make_wandb_env, project_name, run_python, wandb_cli, wandb_key  # noqa: F401  (wandb_key is a fixture)

# The agent heartbeats every 5 s and gets one run per idle heartbeat; runs are kept short.
GRID_SWEEP = """
    import json, sys, wandb
    project, out = sys.argv[1], sys.argv[2]
    config = {
        "method": "grid",
        "metric": {"name": "score", "goal": "maximize"},
        "parameters": {
            "a": {"values": [1, 2]},
            "opt": {"parameters": {"name": {"value": "sgd"}, "momentum": {"values": [0.5, 0.9]}}},
        },
    }
    sweep_id = wandb.sweep(config, project=project)
    seen = []
    def train():
        run = wandb.init()
        c = dict(run.config)
        seen.append(c)
        run.log({"score": c["a"] * c["opt"]["momentum"]})
        run.finish()
    wandb.agent(sweep_id, function=train, count=5, project=project)
    api = wandb.Api()
    sweep = api.sweep(f"{api.default_entity}/{project}/{sweep_id}")
    best = sweep.best_run()
    json.dump({
        "sweep_id": sweep_id,
        "state": sweep.state,
        "config": sweep.config,
        "runs": sorted([[r.config["a"], r.config["opt"]["momentum"], r.config["opt"]["name"], r.state, r.sweep_name] for r in sweep.runs]),
        "best": [best.config["a"], best.config["opt"]["momentum"], best.summary["score"]],
        "best_loss": sweep.best_loss,
        "expected": sweep.expected_run_count,
        "url": sweep.url,
    }, open(out, "w"))
"""


def test_python_api_grid_sweep_runs_every_point_once_and_finishes(tmp_path, cairn_server, wandb_key):
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    project = project_name("sweep-grid")
    out = tmp_path / "out.json"
    proc = run_python(tmp_path, env, GRID_SWEEP, project, str(out))
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(out.read_text())
    # Four grid points, each run once (count=5 leaves the agent asking; the exhausted grid says exit).
    assert result["runs"] == [
        [1, 0.5, "sgd", "finished", result["sweep_id"]],
        [1, 0.9, "sgd", "finished", result["sweep_id"]],
        [2, 0.5, "sgd", "finished", result["sweep_id"]],
        [2, 0.9, "sgd", "finished", result["sweep_id"]],
    ]
    assert result["state"] == "FINISHED"
    assert result["expected"] == 4
    assert result["best"] == [2, 0.9, 1.8]
    assert result["best_loss"] == 1.8
    assert result["config"]["method"] == "grid"
    assert result["url"].endswith(f"/{project}/sweeps/{result['sweep_id']}")

    # The MLflow view: one parent run for the sweep, each trial nested under it with the sweep id.
    exp = mlflow.get_experiment_by_name(project)
    runs = mlflow.search_runs([exp.experiment_id], output_format="list")
    parents = [r for r in runs if r.data.tags.get("wandb.sweep_id") == result["sweep_id"] and "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert len(children) == 4
    assert all(c.data.tags["wandb.sweep_id"] == result["sweep_id"] for c in children)
    assert sorted((c.data.params["a"], c.data.params["opt.momentum"]) for c in children) == [("1", "0.5"), ("1", "0.9"), ("2", "0.5"), ("2", "0.9")]
