"""Fixtures for the compat suite: one Cairn server per session, driven by the real pinned mlflow client.

The server runs as a subprocess (`node bin/cairn.js server`) on a free port, against TEST_DATABASE_URL
when set (a Postgres server) or an embedded PGlite folder in a fresh temp directory. Tests only talk to
it through MLFLOW_TRACKING_URI, like a user would.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass

# The suite must not phone home (mlflow 3 usage telemetry); set before mlflow is imported.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
# Until the session's server is up (the _client_env fixture), the client's tracking URI is a
# throwaway SQLite file of this process: modules that enable tracing at import make the client open
# its store, and its default, sqlite:///mlflow.db in the working directory, is one file for both
# pytest-xdist workers, which then migrate it at once ("table ... already exists"). Each process
# gets its own: the workers inherit the controller's environment, this URI included.
_inherited = os.environ.get("CAIRN_COMPAT_COLLECT_URI")
if not os.environ.get("MLFLOW_TRACKING_URI") or (
    os.environ["MLFLOW_TRACKING_URI"] == _inherited and os.environ.get("CAIRN_COMPAT_COLLECT_PID") != str(os.getpid())
):
    _collect_dir = tempfile.mkdtemp(prefix="cairn-compat-collect-")
    atexit.register(shutil.rmtree, _collect_dir, True)
    os.environ["MLFLOW_TRACKING_URI"] = os.environ["CAIRN_COMPAT_COLLECT_URI"] = f"sqlite:///{_collect_dir}/mlflow.db"
    os.environ["CAIRN_COMPAT_COLLECT_PID"] = str(os.getpid())

import mlflow  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
from reference_servers import free_port as _free_port  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]

# Under pytest-xdist (scripts/compat.sh runs two workers), each worker's servers get a database of
# their own on TEST_DATABASE_URL's server, as the suite had it alone: tests that count what a whole
# server holds (search across experiments, registry lists) must not see the other worker's rows.
# Once a worker: modules that import this file by name (`from conftest import ...`) run it again.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER and os.environ.get("TEST_DATABASE_URL") and os.environ.get("CAIRN_COMPAT_WORKER_DB") != _WORKER:
    os.environ["CAIRN_COMPAT_WORKER_DB"] = _WORKER
    os.environ["TEST_DATABASE_URL"] = subprocess.run(
        ["node", str(REPO / "scripts" / "fresh-database.mjs"), os.environ["TEST_DATABASE_URL"], f"compat_{_WORKER}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()

# Generous: a fresh embedded database on a loaded CI machine can take a minute to come up.
START_TIMEOUT_S = 180




class CairnServer:
    """A Cairn subprocess that can be stopped and started again on the same database and port."""

    def __init__(self, workdir: pathlib.Path, extra_args: list[str] | None = None, extra_env: dict[str, str] | None = None):
        self.workdir = workdir
        # Flags after the defaults (a repeated flag wins) and env added after MLFLOW_* is dropped,
        # for servers with other artifact stores (test/compat/artifacts/).
        self.extra_args = list(extra_args or [])
        self.extra_env = dict(extra_env or {})
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.backend_store_uri = os.environ.get("TEST_DATABASE_URL") or f"pglite://{workdir / 'db'}"
        self.log_path = workdir / "cairn.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> None:
        assert self.proc is None, "server already running"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                "node",
                str(REPO / "bin" / "cairn.js"),
                "server",
                "--host", "127.0.0.1",
                "--port", str(self.port),
                "--backend-store-uri", self.backend_store_uri,
                "--data-dir", str(self.workdir),
                "--artifacts-destination", str(self.workdir / "artifacts"),
                "--workers", "1",
                *self.extra_args,
            ],
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}, **self.extra_env},
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                r = requests.get(f"{self.url}/health", timeout=2)
                if r.status_code == 200 and r.text.strip() == "OK":
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        code = self.proc.poll()
        self.stop()
        pytest.fail(
            f"Cairn did not become healthy within {START_TIMEOUT_S}s (exit code {code}).\n"
            f"--- tail of {self.log_path} ---\n{self.log_tail()}",
            pytrace=False,
        )

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None

    def restart(self, kill: bool = False) -> None:
        """Stop (SIGTERM, or SIGKILL with kill=True) and start again on the same database and port."""
        self.stop(kill=kill)
        self.start()

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])


@contextlib.contextmanager
def running_server(prefix: str, extra_args: list[str] | None = None, extra_env: dict[str, str] | None = None, before_start=None):
    """A second server of a test module's own, in a temp folder removed afterwards; `before_start(server)` may adjust it."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    server = CairnServer(workdir, extra_args=extra_args, extra_env=extra_env)
    if before_start:
        before_start(server)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def cairn_server():
    """The running server (`.url`, `.restart()`, `.log_tail()`); stopped at the end of the session."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-compat-"))
    server = CairnServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if os.environ.get("CAIRN_COMPAT_KEEP_TMP"):
            print(f"\nCairn work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def _client_env(cairn_server):
    """Point the client at Cairn; make a server 5xx fail fast instead of minutes of retries."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", cairn_server.url)
        mp.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        mp.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
        mp.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
        mp.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
        mp.delenv("MLFLOW_RUN_ID", raising=False)
        mlflow.set_tracking_uri(cairn_server.url)
        yield cairn_server.url


def _forget_registry_uri() -> None:
    import mlflow.tracking._model_registry.utils as registry_utils

    registry_utils._registry_uri = None
    os.environ.pop("MLFLOW_REGISTRY_URI", None)


@pytest.fixture(autouse=True)
def tracking_uri(_client_env, cairn_server, monkeypatch):
    """Every test talks to Cairn and starts with no active run or experiment."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", _client_env)
    mlflow.set_tracking_uri(_client_env)
    # The registry URI is process-wide too (a module global and an env var), and the importer's tests
    # point it at their source servers. Unset, it follows the tracking URI, which is what a test that
    # switches servers (test_auth's login, MlflowClient(other_url)) expects.
    _forget_registry_uri()
    yield _client_env
    _forget_registry_uri()
    if cairn_server.proc is None or cairn_server.proc.poll() is not None:
        # The server died during this test: say so with its log, and bring it back for the rest.
        tail = cairn_server.log_tail()
        cairn_server.stop()
        cairn_server.start()
        pytest.fail(f"Cairn exited during this test. Tail of its log:\n{tail}", pytrace=False)
    while mlflow.active_run() is not None:
        try:
            mlflow.end_run()
        except Exception:
            mlflow.tracking.fluent._active_run_stack.get().clear()
            break
    # Forget the experiment chosen by set_experiment (it also exports MLFLOW_EXPERIMENT_ID) so tests
    # stay independent.
    from mlflow.tracking import fluent

    fluent._active_experiment_id = None
    for var in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID"):
        os.environ.pop(var, None)


@pytest.fixture
def server_url(cairn_server) -> str:
    return cairn_server.url


@pytest.fixture
def restart_server(cairn_server):
    """Call to restart Cairn on the same database (kill=True for SIGKILL instead of SIGTERM)."""

    def _restart(kill: bool = False) -> None:
        cairn_server.restart(kill=kill)
        mlflow.set_tracking_uri(cairn_server.url)

    return _restart


@pytest.fixture
def exp_name(request) -> str:
    """An experiment name unique to this test (and to this session, for a shared Postgres)."""
    base = request.node.name.replace("[", "-").replace("]", "")[:80]
    return f"compat-{base}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def client():
    return mlflow.MlflowClient()


@pytest.fixture
def experiment_id(client, exp_name) -> str:
    return client.create_experiment(exp_name)


@dataclass
class HttpCall:
    method: str
    endpoint: str
    body: object
    status: int
    # The `error_code` of an error answer's JSON body (None for a success, or a body that is not JSON).
    error_code: str | None = None
    # When the client's request function raised instead of returning (status is then 0): what it raised.
    raised: str | None = None


def _error_code(resp) -> str | None:
    if resp.status_code < 400:
        return None  # a success may be a streamed download: left unread
    try:
        return resp.json().get("error_code")
    except ValueError:
        return None


class CallRecord:
    """The requests one client call made (filled in when its `with` block ends)."""

    def __init__(self) -> None:
        self.requests: list[HttpCall] = []

    @property
    def last(self) -> HttpCall:
        return self.requests[-1]

    @property
    def status(self) -> int:
        return self.last.status

    @property
    def endpoint(self) -> str:
        return self.last.endpoint


class HttpLog(list):
    """Every REST request the client made in this test, in order, with the status the server answered."""

    @contextlib.contextmanager
    def call(self, endpoint: str | None = None):
        """Records the requests made inside the block, and fails if there were none (or, given
        `endpoint`, if the last one went elsewhere): a call that sent nothing must not be judged by an
        earlier response. Use inside `pytest.raises`, so the requests are checked even when it raises.
        """
        record = CallRecord()
        mark = len(self)
        try:
            yield record
        finally:
            record.requests = list(self[mark:])
            assert record.requests, "the call under test sent no request"
            if endpoint is not None:
                assert record.last.endpoint.endswith(endpoint), (endpoint, [c.endpoint for c in record.requests])


@pytest.fixture(autouse=True)
def http_log(monkeypatch) -> HttpLog:
    """Every REST call the client makes in this test, with the HTTP status the server answered.

    (MlflowException.get_http_status_code() is derived from the error code, not read from the
    response, so tests that care about the real status look here, through `http_log.call()`.)
    The artifact client imported `http_request` by name, so it is wrapped there too.
    """
    import mlflow.store.artifact.http_artifact_repo as http_artifact_repo
    import mlflow.utils.rest_utils as rest_utils

    calls = HttpLog()
    real = rest_utils.http_request

    def recording(host_creds, endpoint, method, *args, **kwargs):
        body = kwargs.get("json", kwargs.get("params"))
        try:
            resp = real(host_creds, endpoint, method, *args, **kwargs)
        except Exception as err:
            # e.g. a 5xx its retry policy gave up on: logged too, so no request goes unseen.
            calls.append(HttpCall(method, endpoint, body, 0, raised=f"{type(err).__name__}: {err}"[:300]))
            raise
        calls.append(HttpCall(method, endpoint, body, resp.status_code, _error_code(resp)))
        return resp

    monkeypatch.setattr(rest_utils, "http_request", recording)
    monkeypatch.setattr(http_artifact_repo, "http_request", recording)
    return calls


# ---- scheduling on the pytest-xdist workers ------------------------------------------------------
# scripts/compat.sh hands out whole files (--dist loadfile) in collection order (--no-loadscope-reorder;
# xdist's own order puts files with many tests first). The files that take minutes go first, so the
# two workers finish together instead of one starting a three-minute file while the other is done:
# longest first, by the per-file times this suite prints at its end (update the list from them).
_LONGEST_FILES_FIRST = [  # seconds on PGlite, alone on 2 cores, 2026-12-03
    "test_import_mlflow.py",  # 232
    "test_wandb_sweeps.py",  # 206
    "test_wandb_sweeps_local.py",  # 202
    "test_export_import.py",  # 107
    "test_search_runs.py",  # 86
    "artifacts/test_wandb_artifact_flows.py",  # 80
    "artifacts/test_wandb_multipart.py",  # 79
    "test_import_wandb_offline.py",  # 68
    "test_import_wandb_artifacts.py",  # 64
    "artifacts/test_artifacts.py",  # 62
    "test_import_mlflow2.py",  # 47
    "test_import_wandb.py",  # 38
    "test_tracing.py",  # 35
    "test_differential.py",  # 34
    "test_wandb.py",  # 30
]
_COMPAT_DIR = pathlib.Path(__file__).resolve().parent


def _compat_file(nodeid_or_path: str) -> str:
    return nodeid_or_path.split("::", 1)[0].removeprefix("test/compat/")


def pytest_collection_modifyitems(items) -> None:
    rank = {name: i for i, name in enumerate(_LONGEST_FILES_FIRST)}
    # A stable sort: within a file, and among the files not named, collection order stays.
    items.sort(key=lambda item: rank.get(pathlib.Path(item.path).resolve().relative_to(_COMPAT_DIR).as_posix(), len(rank)))


# Per file: its tests' time (setup, call and teardown), the worker that ran it and when it ended,
# printed at the end, where a CI log shows which files make the tail.
_file_times: dict[str, dict] = {}
_session_start = time.monotonic()


def pytest_runtest_logreport(report) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # the controller sums what the workers report
    entry = _file_times.setdefault(_compat_file(report.nodeid), {"seconds": 0.0, "worker": "", "end": 0.0})
    entry["seconds"] += report.duration
    entry["end"] = time.monotonic() - _session_start
    gateway = getattr(getattr(report, "node", None), "gateway", None)
    entry["worker"] = getattr(gateway, "id", "") or entry["worker"]


def pytest_terminal_summary(terminalreporter) -> None:
    if not _file_times:
        return
    terminalreporter.section("time per file (ordered by when it ended)")
    for name, t in sorted(_file_times.items(), key=lambda kv: kv[1]["end"]):
        terminalreporter.write_line(f"{t['seconds']:7.1f}s  ended at {t['end']:6.0f}s  {t['worker'] or '-':4}  {name}")
