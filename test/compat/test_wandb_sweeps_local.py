"""W&B sweeps driven by the client with the real wandb==0.31.0 (and its wandb[sweeps] extra): the
local controller (`wandb controller`, `wandb.controller(...).run()`) scheduling runs that agents
start, a `method: custom` sweep searched by a Python function, prior runs attached with
`wandb.sweep(..., prior_runs=...)` and `wandb sweep --prior_run`, and a killed agent's run marked
crashed and handed to a second agent."""

from __future__ import annotations

import importlib.util as _ilu
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import textwrap
import time

import mlflow
import pytest

from test_wandb import ENTITY, create_wandb_key, project_name, run_python, wandb_cli, wandb_key  # noqa: F401  (wandb_key is a fixture)
from test_wandb_sweeps import agent_env, create_sweep, read_sweep

# The root conftest's running_server, loaded by path (test/compat/artifacts/conftest.py shadows it).
_spec = _ilu.spec_from_file_location("compat_root_conftest_sweeps", pathlib.Path(__file__).with_name("conftest.py"))
_root_conftest = _ilu.module_from_spec(_spec)
sys.modules[_spec.name] = _root_conftest
_spec.loader.exec_module(_root_conftest)

QUICK_PY = """\
import time
import wandb

run = wandb.init()
for i in range(3):
    run.log({"loss": (run.config.x - 0.3) ** 2 + 0.1 / (i + 1)})
    time.sleep(0.3)
run.finish()
"""


def start(tmp_path, env, *args: str, new_session: bool = False) -> subprocess.Popen:
    log = open(tmp_path / f"proc-{time.monotonic_ns()}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "wandb", *args], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                            text=True, start_new_session=new_session)


def finish(proc: subprocess.Popen, timeout: int = 600) -> int:
    try:
        return proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()


def logs(tmp_path) -> str:
    return "".join(p.read_text() for p in sorted(tmp_path.glob("*.log")))[-6000:]


def test_wandb_controller_cli_schedules_a_grid_that_an_agent_runs(tmp_path, cairn_server, wandb_key):
    env = agent_env(tmp_path, cairn_server, wandb_key)
    project = project_name("sweep-local")
    (tmp_path / "quick.py").write_text(QUICK_PY)
    path = create_sweep(tmp_path, env, project, {
        "program": "quick.py",
        "method": "grid",
        "controller": {"type": "local"},
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"values": [0.1, 0.3, 0.5]}},
    })
    # 0.31's `wandb controller` takes the bare sweep id (it does not split entity/project/id as
    # `wandb agent` does): the project and entity come from the environment, as in W&B's docs.
    controller = start(tmp_path, {**env, "WANDB_PROJECT": project, "WANDB_ENTITY": ENTITY}, "controller", path.split("/")[-1])
    agent = start(tmp_path, env, "agent", "--count", "3", path)
    assert finish(agent) == 0, logs(tmp_path)
    # The controller sees the grid done and the sweep finished, and returns.
    assert finish(controller, timeout=180) == 0, logs(tmp_path)
    sweep = read_sweep(tmp_path, env, path)
    assert sweep["state"] == "FINISHED"
    assert sorted(r["config"]["x"] for r in sweep["runs"]) == [0.1, 0.3, 0.5]
    assert all(r["state"] == "finished" for r in sweep["runs"])
    assert "Starting wandb controller" in logs(tmp_path) and f"Sweep: {path.split('/')[-1]} (grid)" in logs(tmp_path)


CUSTOM_SWEEP = """
    import json, sys, wandb, sweeps
    project, out = sys.argv[1], sys.argv[2]
    tried = []

    def search(config, runs):
        # A hand-written search: halve x until three runs exist, then stop.
        if len(runs) >= 3:
            return None
        x = 0.8 / (2 ** len(runs))
        tried.append(x)
        return sweeps.SweepRun(config={"x": {"value": x}})

    # configure_search(function) makes the method custom. (0.31's own schema check refuses a
    # function given as "method" in a config dict, before anything is sent.)
    tuner = wandb.controller(project=project)
    tuner.configure_search(search)
    tuner.configure_program("quick.py")
    tuner.configure_controller(type="local")
    tuner.configure_metric("loss")
    tuner.configure_parameter("x", min=0.0, max=1.0)
    tuner.create()
    tuner.run(print_status=False)
    api = wandb.Api()
    s = api.sweep(f"{api.default_entity}/{project}/{tuner.sweep_id}")
    json.dump({"tried": tried, "method": s.config["method"], "state": s.state,
               "runs": sorted([r.config["x"], r.state] for r in s.runs)}, open(out, "w"))
"""


def test_custom_method_searched_by_a_python_function_in_wandb_controller(tmp_path, cairn_server, wandb_key):
    env = agent_env(tmp_path, cairn_server, wandb_key)
    project = project_name("sweep-custom")
    (tmp_path / "quick.py").write_text(QUICK_PY)
    out = tmp_path / "out.json"
    script = tmp_path / "custom.py"
    script.write_text(textwrap.dedent(CUSTOM_SWEEP))
    tuner_log = open(tmp_path / "tuner.log", "w")
    tuner = subprocess.Popen([sys.executable, str(script), project, str(out)], cwd=tmp_path, env=env, stdout=tuner_log, stderr=subprocess.STDOUT)
    # The agent needs the sweep id the controller created: read it from the project.
    deadline = time.monotonic() + 120
    sweep_id = None
    while sweep_id is None:
        assert time.monotonic() < deadline, (tmp_path / "tuner.log").read_text()
        listed = run_python(tmp_path, env, """
            import sys, wandb
            print(",".join(s.id for s in wandb.Api().project(sys.argv[1], entity=wandb.Api().default_entity).sweeps()))
        """, project)
        sweep_id = listed.stdout.strip() or None
        time.sleep(1)
    agent = start(tmp_path, env, "agent", "--count", "3", f"{ENTITY}/{project}/{sweep_id}")
    assert finish(agent) == 0, logs(tmp_path)
    assert finish(tuner, timeout=180) == 0, logs(tmp_path)
    result = json.loads(out.read_text())
    assert result["method"] == "custom"
    assert result["state"] == "FINISHED"
    assert result["runs"] == [[0.2, "finished"], [0.4, "finished"], [0.8, "finished"]]


PRIOR_RUNS = """
    import json, sys, wandb
    project, out = sys.argv[1], sys.argv[2]
    ids = []
    for x in (0.1, 0.3, 0.9):
        run = wandb.init(project=project, config={"x": x})
        run.log({"loss": (x - 0.3) ** 2})
        run.finish()
        ids.append(run.id)
    sweep_id = wandb.sweep({
        "method": "bayes",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
    }, project=project, prior_runs=ids[:2])
    api = wandb.Api()
    s = api.sweep(f"{api.default_entity}/{project}/{sweep_id}")
    best = s.best_run()
    json.dump({"ids": ids, "sweep_id": sweep_id, "runs": sorted(r.id for r in s.runs), "best": best.id,
               "sweep_of_run": api.run(f"{api.default_entity}/{project}/{ids[0]}").sweep_name}, open(out, "w"))
"""


def test_prior_runs_join_the_sweep_and_count_for_the_search(tmp_path, cairn_server, wandb_key):
    env = agent_env(tmp_path, cairn_server, wandb_key)
    project = project_name("sweep-prior")
    out = tmp_path / "out.json"
    proc = run_python(tmp_path, env, PRIOR_RUNS, project, str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    ids = result["ids"]
    assert result["runs"] == sorted(ids[:2])
    assert result["best"] == ids[1]  # x = 0.3 is the prior run at the optimum
    assert result["sweep_of_run"] == result["sweep_id"]
    # MLflow nests the prior runs under the sweep's run, like its own trials.
    exp = mlflow.get_experiment_by_name(project)
    runs = mlflow.search_runs([exp.experiment_id], output_format="list")
    parent = [r for r in runs if r.data.tags.get("wandb.sweep_id") == result["sweep_id"] and "mlflow.parentRunId" not in r.data.tags]
    assert len(parent) == 1
    nested = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent[0].info.run_id]
    assert len(nested) == 2

    # `wandb sweep --prior_run`: a grid skips the points its prior run already covers.
    (tmp_path / "quick.py").write_text(QUICK_PY)
    (tmp_path / "grid.yaml").write_text("program: quick.py\nmethod: grid\nmetric: {name: loss}\nparameters:\n  x: {values: [0.1, 0.3, 0.9]}\n")
    created = wandb_cli(tmp_path, env, "sweep", "--project", project, "--prior_run", ids[0], "--prior_run", ids[2], "grid.yaml")
    assert created.returncode == 0, created.stderr
    path = f"{ENTITY}/{project}/" + re.search(r"Creating sweep with ID: (\w+)", created.stdout + created.stderr).group(1)
    agent = wandb_cli(tmp_path, env, "agent", "--count", "3", path)
    assert agent.returncode == 0, agent.stdout + agent.stderr
    sweep = read_sweep(tmp_path, env, path)
    assert sorted(r["config"]["x"] for r in sweep["runs"]) == [0.1, 0.3, 0.9]
    assert sorted(r["id"] for r in sweep["runs"] if r["id"] in ids) == sorted([ids[0], ids[2]])
    assert sweep["state"] == "FINISHED"

    # A prior run that is not in the project refuses the sweep with the server's message.
    refused = wandb_cli(tmp_path, env, "sweep", "--project", project, "--prior_run", "nosuchrun", "grid.yaml")
    assert "Prior run nosuchrun not found" in refused.stdout + refused.stderr


HANDOVER_PY = """\
import os, time
import wandb

run = wandb.init()
first = not os.path.exists("first-started")
if first:
    with open("first-started", "w") as f:
        f.write(str(os.getpid()))
for i in range(600 if first else 3):
    run.log({"loss": run.config.x + 1.0 / (i + 1)})
    time.sleep(0.5)
run.finish()
"""

AGENT_TIMEOUT_S = 10


def kill_training_process(pid: int) -> None:
    """SIGKILLs the training process and the wandb-core that serves it (started with `--pid <pid>`)."""
    victims = [pid]
    for proc in pathlib.Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                args = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(a.endswith(b"wandb-core") for a in args) and b"--pid" in args and args[args.index(b"--pid") + 1] == str(pid).encode():
                victims.append(int(proc.name))
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def handover_server():
    # A short --wandb-agent-timeout, so a killed agent is given up for lost within the test.
    with _root_conftest.running_server("cairn-sweep-handover-", extra_env={"CAIRN_WANDB_AGENT_TIMEOUT": str(AGENT_TIMEOUT_S)}) as server:
        yield server


def test_killed_agents_run_is_marked_crashed_and_a_second_agent_takes_it_over(tmp_path, handover_server):
    env = agent_env(tmp_path, handover_server, create_wandb_key(handover_server))
    project = project_name("sweep-handover")
    (tmp_path / "handover.py").write_text(HANDOVER_PY)
    path = create_sweep(tmp_path, env, project, {
        "program": "handover.py",
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {"x": {"values": [1]}},
    })
    first = start(tmp_path, env, "agent", "--count", "1", path, new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            runs = read_sweep(tmp_path, env, path)["runs"]
            if runs and len(runs[0]["history"]) >= 2:
                break
            assert time.monotonic() < deadline, "the first agent never started its run"
            time.sleep(1)
        # The agent, its training process and that process's wandb-core die at once, as when a
        # machine is lost (the agent starts the training process in a process group of its own).
        os.killpg(first.pid, signal.SIGKILL)
        kill_training_process(int((tmp_path / "first-started").read_text()))
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    lost_run = runs[0]["id"]
    # Past the timeout, the next agent's heartbeat finds the first one gone.
    time.sleep(AGENT_TIMEOUT_S + 5)
    second = wandb_cli(tmp_path, env, "agent", "--count", "1", path)
    assert second.returncode == 0, second.stdout + second.stderr
    sweep = read_sweep(tmp_path, env, path)
    by_id = {r["id"]: r for r in sweep["runs"]}
    assert len(by_id) == 2
    assert by_id[lost_run]["state"] == "crashed"
    (retry,) = [r for r in sweep["runs"] if r["id"] != lost_run]
    assert retry["state"] == "finished" and retry["config"]["x"] == 1 and len(retry["history"]) == 3
    assert sweep["state"] == "FINISHED"
    # MLflow sees the crashed run as FAILED.
    client = mlflow.MlflowClient(tracking_uri=handover_server.url)
    exp = client.get_experiment_by_name(project)
    statuses = sorted(r.info.status for r in client.search_runs([exp.experiment_id]) if "x" in r.data.params)
    assert statuses == ["FAILED", "FINISHED"]
