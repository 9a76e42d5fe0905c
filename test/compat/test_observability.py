"""Operating Cairn with the real clients: /metrics (--expose-prometheus) moves with their traffic, and
the server's logs, at debug level with auth on, never carry a secret they sent.

One server with `--app-name basic-auth --expose-prometheus DIR --log-level debug`. The mlflow client logs
in with a password and, separately, with an API key as MLFLOW_TRACKING_TOKEN; the wandb client logs a
run with its own key. Prometheus' scrape is read before and after; the log file is read at the end.
"""

from __future__ import annotations

import base64
import importlib.util as _ilu
import json
import pathlib
import sys
import urllib.parse
import uuid

import mlflow
import pytest
import requests

# test/compat/artifacts/conftest.py shadows this folder's conftest as a module name: load it by path.
_spec = _ilu.spec_from_file_location("compat_root_conftest", pathlib.Path(__file__).with_name("conftest.py"))
_root_conftest = _ilu.module_from_spec(_spec)
sys.modules[_spec.name] = _root_conftest
_spec.loader.exec_module(_root_conftest)
from test_wandb import make_wandb_env, run_python  # noqa: E402

ADMIN = f"ops-admin-{uuid.uuid4().hex[:8]}"
ADMIN_PASSWORD = f"ops-admin-pw-{uuid.uuid4().hex[:8]}"
USER_PASSWORD = f"ops-user-pw-{uuid.uuid4().hex[:8]}"
DB_PASSWORD = f"ops-db-pw-{uuid.uuid4().hex[:8]}"


def _with_password(uri: str) -> tuple[str, str | None]:
    """The Postgres URI with a password in it (the shared test server trusts any), and that password."""
    parts = urllib.parse.urlsplit(uri)
    if parts.password:
        return uri, parts.password
    netloc = f"{parts.username or 'postgres'}:{DB_PASSWORD}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc)), DB_PASSWORD


@pytest.fixture(scope="module")
def ops_server():
    def with_db_password(server) -> None:
        server.db_password = None
        if server.backend_store_uri.startswith("postgres"):
            server.backend_store_uri, server.db_password = _with_password(server.backend_store_uri)

    with _root_conftest.running_server(
        "cairn-compat-ops-",
        extra_args=[
            "--app-name", "basic-auth", "--auth-admin-username", ADMIN,
            "--expose-prometheus", "prometheus-multiproc", "--log-level", "debug",
        ],
        extra_env={"MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD},
        before_start=with_db_password,
    ) as server:
        yield server


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    r = requests.get(f"{url}/metrics", auth=(ADMIN, ADMIN_PASSWORD), timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    series = {}
    for line in r.text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, value = line.rsplit(" ", 1)
        name, _, labels = name_labels.partition("{")
        pairs = frozenset(tuple(p.split("=", 1)) for p in labels.rstrip("}").replace('"', "").split(",") if p)
        series[(name, pairs)] = float(value)
    return series


def total(series: dict, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, pairs), v in series.items() if n == name and want <= set(pairs))


def drive_clients(server, monkeypatch, tmp_path) -> dict[str, str]:
    """Real client traffic with every kind of credential; returns the secrets it used."""
    user = f"ops-user-{uuid.uuid4().hex[:8]}"
    admin_session = requests.Session()
    admin_session.auth = (ADMIN, ADMIN_PASSWORD)
    r = admin_session.post(f"{server.url}/api/2.0/mlflow/users/create", json={"username": user, "password": USER_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    r = requests.post(f"{server.url}/api/2.0/cairn/keys/create", json={}, auth=(user, USER_PASSWORD), timeout=30)
    assert r.status_code == 200, r.text
    key = r.json()["key"]

    # mlflow with a password: params, metrics (log-metric and log-batch), an artifact.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", USER_PASSWORD)
    mlflow.set_tracking_uri(server.url)
    exp_id = mlflow.create_experiment(f"ops-{uuid.uuid4().hex[:8]}")
    artifact = tmp_path / "notes.txt"
    artifact.write_text("x" * 2048)
    with mlflow.start_run(experiment_id=exp_id) as run:
        mlflow.log_param("lr", 0.1)
        for step in range(5):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
        mlflow.log_metrics({"acc": 0.5, "f1": 0.4}, step=5)
        mlflow.log_artifact(str(artifact))
    # mlflow with an API key as a bearer token: read the run back, and its artifact.
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", key)
    got = mlflow.MlflowClient().get_run(run.info.run_id)
    assert got.data.metrics["loss"] == pytest.approx(0.2)
    local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="notes.txt", dst_path=str(tmp_path / "dl"))
    assert pathlib.Path(local).read_text() == "x" * 2048
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")

    # wandb with its key: history lines through file_stream, a saved file through an upload URL.
    env = make_wandb_env(tmp_path, server.url, key)
    out = run_python(tmp_path, env, """
        import sys, wandb
        run = wandb.init(project=sys.argv[1], name="ops-run")
        for i in range(6):
            wandb.log({"loss": 1.0 / (i + 1)})
        open("saved.txt", "w").write("saved by wandb.save\\n")
        wandb.save("saved.txt", policy="now")
        run.finish()
    """, f"ops-{uuid.uuid4().hex[:8]}")
    assert out.returncode == 0, out.stderr[-3000:]
    return {
        "user password": USER_PASSWORD,
        "admin password": ADMIN_PASSWORD,
        "basic credentials": base64.b64encode(f"{user}:{USER_PASSWORD}".encode()).decode(),
        "admin basic credentials": base64.b64encode(f"{ADMIN}:{ADMIN_PASSWORD}".encode()).decode(),
        "wandb basic credentials": base64.b64encode(f"api:{key}".encode()).decode(),
        "API key": key,
        "API key body": key.split("-", 1)[-1],
    }


@pytest.fixture
def own_tracking_uri():
    """drive_clients points mlflow's process-wide tracking URI at this module's server; the modules
    after this one expect the session's server back."""
    previous = mlflow.get_tracking_uri()
    yield
    mlflow.set_tracking_uri(previous)


def test_metrics_move_and_logs_keep_secrets(ops_server, own_tracking_uri, monkeypatch, tmp_path):
    before = scrape(ops_server.url)
    secrets = drive_clients(ops_server, monkeypatch, tmp_path)
    after = scrape(ops_server.url)

    def moved(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    # Requests, by the route patterns the clients hit, with their status.
    assert moved("mlflow_http_request_total", route="/api/2.0/mlflow/runs/log-metric", status="200") == 5
    assert moved("mlflow_http_request_total", route="/api/2.0/mlflow/runs/log-batch", status="200") >= 1
    assert moved("mlflow_http_request_total", route="/graphql", status="200") >= 1
    assert moved("mlflow_http_request_total", route="/files/:entity/:project/:run/file_stream", status="200") >= 1
    assert moved("mlflow_http_request_duration_seconds_count", route="/api/2.0/mlflow/runs/log-metric", status_class="2xx") == 5
    # Work done: 5 + 2 MLflow points and the W&B history's 6 steps, the artifact both ways, file_stream lines.
    assert moved("cairn_metric_points_logged_total") >= 13
    assert moved("cairn_artifact_bytes_total", direction="in") >= 2048
    assert moved("cairn_artifact_bytes_total", direction="out") >= 2048
    assert moved("cairn_wandb_file_stream_lines_total") >= 6
    assert total(after, "process_resident_memory_bytes") > 0

    # The log: JSON lines (past the human start-up banner), request ids on access lines, no secret.
    ops_server.stop()
    text = ops_server.log_path.read_text(errors="replace")
    if ops_server.db_password:
        secrets["database password"] = ops_server.db_password
    for what, secret in secrets.items():
        assert secret not in text, f"the server's log holds the {what}"
    json_lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [line for line in json_lines if line.get("msg") == "request"]
    assert len(access) >= 20
    assert all(line.get("request_id") and line.get("route") and line.get("status") for line in access)
    # wandb.save's upload URL carries its grant in the path: logged masked.
    uploads = [line["path"] for line in access if line["path"].startswith("/wandb-upload/")]
    assert uploads and all(path == "/wandb-upload/***" for path in uploads)
    ops_server.start()
