"""W&B sweeps with the real wandb==0.31.0 client: `wandb.sweep` + `wandb.agent(function=...)`, the
seed's sweep YAML through `wandb sweep` and two parallel `wandb agent --count` processes, sweep
control (--pause/--resume/--stop/--cancel), `api.sweep(...)`, hyperband stopping runs, a finished
grid sweep, bad configs refused with the client's own error, and the MLflow view of a sweep."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
import time

import mlflow
import yaml

from test_wandb import ENTITY, make_wandb_env, project_name, run_python, wandb_cli, wandb_key  # noqa: F401  (wandb_key is a fixture)

# Shared with test/unit/wandb-sweeps.test.ts: the seed's sweep YAML, a nested grid and bad configs.
FIXTURE_PATH = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "wandb-sweep-configs.json"
FIXTURE = json.loads(FIXTURE_PATH.read_text())

# The agent heartbeats every 5 s and gets one run per idle heartbeat; runs are kept short.
GRID_SWEEP = """
    import json, sys, wandb
    project, out, fixture = sys.argv[1], sys.argv[2], sys.argv[3]
    config = json.load(open(fixture))["nested_grid"]
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
        "listed": [s.id for s in api.project(project, entity=api.default_entity).sweeps()],
    }, open(out, "w"))
"""


def test_python_api_grid_sweep_runs_every_point_once_and_finishes(tmp_path, cairn_server, wandb_key):
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    project = project_name("sweep-grid")
    out = tmp_path / "out.json"
    proc = run_python(tmp_path, env, GRID_SWEEP, project, str(out), str(FIXTURE_PATH))
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
    assert result["listed"] == [result["sweep_id"]]

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


# The seed's sweep, verbatim.
SEED_SWEEP_YAML = FIXTURE["seed_yaml"]

# The program the agent runs: `python train.py --lr=... --batch_size=... --dropout=...`, parsed
# by wandb.init into wandb.config (the agent also writes them to the sweep param file).
TRAIN_PY = """\
import math, sys, time
import wandb

run = wandb.init()
c = run.config
base = abs(math.log10(c.lr) + 2.5) + abs(c.dropout - 0.2) + (0.1 if c.batch_size == 32 else 0.3)
for epoch in range(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 8):
    run.log({"val_loss": base + 1.0 / (epoch + 1), "epoch": epoch})
    time.sleep(0.7)
with open("seen-%s.txt" % run.id, "w") as f:
    f.write("%r %r %r\\n" % (c.lr, c.batch_size, c.dropout))
run.finish()
"""


def agent_env(tmp_path, cairn_server, key):
    env = make_wandb_env(tmp_path, cairn_server.url, key)
    # The agent starts `/usr/bin/env python train.py`: that python must be the one with wandb.
    env["PATH"] = f"{pathlib.Path(sys.executable).parent}:{env.get('PATH', '')}"
    # The CLI's own messages (the sweep id and URL) are what the tests read.
    env.pop("WANDB_SILENT")
    # History reaches the server within a second (the default is 15 s), so hyperband sees a short
    # test run's brackets while it is still running.
    env["WANDB__FILE_STREAM_TRANSMIT_INTERVAL"] = "1"
    return env


def read_sweep(tmp_path, env, path: str) -> dict:
    out = tmp_path / f"sweep-{time.monotonic_ns()}.json"
    proc = run_python(tmp_path, env, """
        import json, sys, wandb
        s = wandb.Api().sweep(sys.argv[1])
        m = s.config.get("metric", {}).get("name")
        runs = [{"id": r.id, "state": r.state, "config": {k: v for k, v in r.config.items() if not k.startswith("_")},
                 "history": [h[m] for h in r.scan_history(keys=[m])] if m else []}
                for r in s.runs]
        json.dump({"state": s.state, "config": s.config, "runs": runs}, open(sys.argv[2], "w"))
    """, path, str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_seed_sweep_yaml_through_wandb_sweep_and_two_parallel_agents(tmp_path, cairn_server, wandb_key):
    env = agent_env(tmp_path, cairn_server, wandb_key)
    project = project_name("sweep-seed")
    (tmp_path / "sweep.yaml").write_text(SEED_SWEEP_YAML)
    (tmp_path / "train.py").write_text(TRAIN_PY)
    created = wandb_cli(tmp_path, env, "sweep", "--project", project, "sweep.yaml")
    assert created.returncode == 0, created.stderr
    log = created.stdout + created.stderr
    sweep_id = re.search(r"Creating sweep with ID: (\w+)", log).group(1)
    url = re.search(r"View sweep at: (\S+)", log).group(1)
    assert url == f"{cairn_server.url}/{ENTITY}/{project}/sweeps/{sweep_id}"
    path = f"{ENTITY}/{project}/{sweep_id}"
    assert f"wandb agent {path}" in log

    agents = [
        subprocess.Popen([sys.executable, "-m", "wandb", "agent", "--count", "3", path], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    logs = [a.communicate(timeout=600)[0] for a in agents]
    assert [a.returncode for a in agents] == [0, 0], logs

    sweep = read_sweep(tmp_path, env, path)
    runs = sweep["runs"]
    assert len(runs) == 6 and len({r["id"] for r in runs}) == 6
    for r in runs:
        c = r["config"]
        assert 0.0001 <= c["lr"] <= 0.1
        assert c["batch_size"] in (16, 32, 64)
        assert 0.0 <= c["dropout"] <= 0.5
        # A run either ran its 8 epochs or was stopped by hyperband once past its first bracket (3
        # logs); a stop can also land while a run that logged everything is still finishing.
        assert (r["state"] == "finished" and len(r["history"]) == 8) or (r["state"] == "killed" and 3 <= len(r["history"]) <= 8), r
    # Each run's config is the suggestion it was started with (the program saw the same values).
    seen = {p.read_text() for p in tmp_path.glob("seen-*.txt")}
    configs = {"%r %r %r\n" % (r["config"]["lr"], r["config"]["batch_size"], r["config"]["dropout"]) for r in runs}
    assert seen <= configs
    assert len(seen) >= len([r for r in runs if r["state"] == "finished"])
    assert sweep["config"] == yaml.safe_load(SEED_SWEEP_YAML)
    assert sweep["state"] == "RUNNING"  # bayes has no end of its own: it runs until stopped

    stopped = wandb_cli(tmp_path, env, "sweep", "--stop", path)
    assert stopped.returncode == 0, stopped.stderr
    assert read_sweep(tmp_path, env, path)["state"] == "FINISHED"


STAGED_PY = """\
import sys, time
import wandb

run = wandb.init()
for epoch in range(run.config.epochs):
    run.log({"val_loss": run.config.quality + 1.0 / (epoch + 1)})
    time.sleep(1.0)
run.finish()
"""


def sweep_yaml(tmp_path, config: dict) -> str:
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump(config))
    (tmp_path / "staged.py").write_text(STAGED_PY)
    return "sweep.yaml"


def create_sweep(tmp_path, env, project: str, config: dict) -> str:
    created = wandb_cli(tmp_path, env, "sweep", "--project", project, sweep_yaml(tmp_path, config))
    assert created.returncode == 0, created.stderr
    return f"{ENTITY}/{project}/" + re.search(r"Creating sweep with ID: (\w+)", created.stdout + created.stderr).group(1)


def test_hyperband_stops_the_run_that_falls_behind(tmp_path, cairn_server, wandb_key):
    env = agent_env(tmp_path, cairn_server, wandb_key)
    project = project_name("sweep-hyperband")
    # Grid order is fixed: the good run (quality 0) finishes first, then the bad one (quality 5) is
    # ranked against it at the first bracket (3 logs) and stopped.
    path = create_sweep(tmp_path, env, project, {
        "program": "staged.py",
        "method": "grid",
        "metric": {"name": "val_loss", "goal": "minimize"},
        "parameters": {"quality": {"values": [0, 5]}, "epochs": {"value": 20}},
        "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},
    })
    agent = wandb_cli(tmp_path, env, "agent", "--count", "2", path)
    assert agent.returncode == 0, agent.stdout + agent.stderr
    runs = sorted(read_sweep(tmp_path, env, path)["runs"], key=lambda r: r["config"]["quality"])
    assert [r["config"]["quality"] for r in runs] == [0, 5]
    good, bad = runs
    assert good["state"] == "finished" and len(good["history"]) == 20
    assert bad["state"] == "killed", bad
    assert 3 <= len(bad["history"]) < 20
    # MLflow sees the stopped trial as KILLED.
    exp = mlflow.get_experiment_by_name(project)
    statuses = sorted((r.data.params["quality"], r.info.status) for r in mlflow.search_runs([exp.experiment_id], output_format="list") if "quality" in r.data.params)
    assert statuses == [("0", "FINISHED"), ("5", "KILLED")]


def test_pause_resume_and_cancel_with_an_agent_running(tmp_path, cairn_server, wandb_key):
    env = agent_env(tmp_path, cairn_server, wandb_key)
    project = project_name("sweep-control")
    path = create_sweep(tmp_path, env, project, {
        "program": "staged.py",
        "method": "random",
        "metric": {"name": "val_loss"},
        "parameters": {"quality": {"min": 0.0, "max": 1.0}, "epochs": {"value": 300}},
    })
    agent = subprocess.Popen([sys.executable, "-m", "wandb", "agent", "--count", "1", path], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            sweep = read_sweep(tmp_path, env, path)
            if sweep["runs"] and sweep["runs"][0]["history"]:
                break
            assert time.monotonic() < deadline, "the agent never started a run"
            time.sleep(2)
        assert sweep["state"] == "RUNNING"
        for flag, state in [("--pause", "PAUSED"), ("--resume", "RUNNING")]:
            done = wandb_cli(tmp_path, env, "sweep", flag, path)
            assert done.returncode == 0, done.stderr
            assert read_sweep(tmp_path, env, path)["state"] == state
        cancel = wandb_cli(tmp_path, env, "sweep", "--cancel", path)
        assert cancel.returncode == 0, cancel.stderr
        # The agent's next heartbeat gets stop and exit: it kills its run and quits.
        agent.communicate(timeout=120)
    finally:
        if agent.poll() is None:
            agent.kill()
    sweep = read_sweep(tmp_path, env, path)
    assert sweep["state"] == "CANCELED"
    assert len(sweep["runs"]) == 1 and len(sweep["runs"][0]["history"]) < 300
    # An ended sweep stays ended, and says so through the client's own error.
    again = wandb_cli(tmp_path, env, "sweep", "--resume", path)
    assert again.returncode != 0 and "canceled" in (again.stdout + again.stderr)
    exp = mlflow.get_experiment_by_name(project)
    parent = [r for r in mlflow.search_runs([exp.experiment_id], output_format="list") if "mlflow.parentRunId" not in r.data.tags]
    assert [p.info.status for p in parent] == ["KILLED"]


BAD_CONFIGS = """
    import json, sys, wandb, yaml
    project, out, fixture = sys.argv[1], sys.argv[2], sys.argv[3]
    cases = {name: yaml.safe_load(case["yaml"]) for name, case in json.load(open(fixture))["bad"].items()}
    errors = {}
    for name, config in cases.items():
        try:
            wandb.sweep(config, project=project)
            errors[name] = None
        except Exception as e:
            errors[name] = [type(e).__name__, str(e)]
    json.dump(errors, open(out, "w"))
"""


def test_bad_sweep_configs_get_the_clients_own_error(tmp_path, cairn_server, wandb_key):
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    project = project_name("sweep-bad")
    out = tmp_path / "errors.json"
    proc = run_python(tmp_path, env, BAD_CONFIGS, project, str(out), str(FIXTURE_PATH))
    assert proc.returncode == 0, proc.stderr[-3000:]
    errors = json.loads(out.read_text())
    expected = {name: case["error"] for name, case in FIXTURE["bad"].items()}
    assert len(expected) >= 7
    for name, fragment in expected.items():
        assert errors[name] is not None, name
        assert fragment in errors[name][1], (name, errors[name])
    # Nothing half-written: no sweep exists in the project (the project itself is not even created).
    assert mlflow.get_experiment_by_name(project) is None

    # Malformed YAML never leaves the client: `wandb sweep` reports its own parse error.
    (tmp_path / "broken.yaml").write_text("method: grid\nparameters: [unclosed\n")
    env.pop("WANDB_SILENT")
    broken = wandb_cli(tmp_path, env, "sweep", "--project", project, "broken.yaml")
    assert "Error in configuration file" in broken.stdout + broken.stderr
