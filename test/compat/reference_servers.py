"""The real `mlflow server` 3.18.0 (from the venv running the suite) as a reference or a peer, and
fresh databases for extra Cairn stores: shared by the differential runner, the importer's and the
mlflow-export-import round trip.

A plain module rather than conftest.py: test/compat/artifacts/conftest.py shadows the root
conftest for `from conftest import ...`, while this name is unambiguous wherever test/compat is on
sys.path (pytest puts it there for every test module in the folder).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator

import requests

def pip_target(requirements: pathlib.Path) -> pathlib.Path:
    """Tools a test runs but the pinned venv does not carry (mlflow-export-import, tensorboardX),
    installed by uv with --no-deps into a folder under the venv cache keyed by their pins, once: a lock
    makes concurrent runs take turns, and the folder is marked complete only when the install
    finished. Put it on PYTHONPATH (or sys.path). Their own dependencies are already in the venv."""
    cache = pathlib.Path(os.environ.get("CAIRN_CACHE") or pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "cairn")
    target = cache / f"{requirements.stem}-{hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]}"
    cache.mkdir(parents=True, exist_ok=True)
    if not (target / ".complete").exists():
        with open(f"{target}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (target / ".complete").exists():
                shutil.rmtree(target, ignore_errors=True)
                # uv, which scripts/pip-install.sh put into the venv (that script says why).
                subprocess.run(
                    [str(pathlib.Path(sys.executable).parent / "uv"), "pip", "install", "--quiet", "--compile-bytecode", "--python", sys.executable,
                     "--no-deps", "--target", str(target), "-r", str(requirements)],
                    check=True, timeout=600, env={**os.environ, "UV_LINK_MODE": "copy"},
                )
                (target / ".complete").touch()
    return target


# A fresh `mlflow server` on a loaded machine takes a while (alembic migrations, the job runner).
MLFLOW_START_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def mlflow_server(
    *extra_args: str, prefix: str = "mlflow-ref-", backend: str | None = None, workdir: pathlib.Path | None = None,
    jobs: bool = False,
) -> Iterator[str]:
    """Starts `mlflow server` on a fresh SQLite file in a temp folder and yields its URL; stops it and
    deletes the folder afterwards. Artifacts are proxied into the folder unless `extra_args` say
    otherwise (a later flag wins); `{workdir}` in an argument is replaced by the folder. A caller
    that passes `workdir` owns it (it is kept), and `backend` replaces the SQLite file. The job
    runner (for scorers and issue detection: it and its 8 huey consumers are nine more Python
    processes importing mlflow, ~40 s of CPU at each start) is off unless `jobs`: the servers here
    only hold data for an import, an export or a comparison, and never run a job."""
    owned = workdir is None
    workdir = workdir or pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    backend = backend or f"sqlite:///{workdir / 'mlflow.db'}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(workdir / "mlflow.log", "ab")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "true" if jobs else "false"
    args = [a.replace("{workdir}", str(workdir)) for a in extra_args]
    if "--no-serve-artifacts" not in args:
        args = ["--artifacts-destination", str(workdir / "artifacts"), *args]
    proc = subprocess.Popen(
        [
            str(pathlib.Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1", "--backend-store-uri", backend, *args,
        ],
        cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    deadline = time.monotonic() + MLFLOW_START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (workdir / "mlflow.log").read_text(errors="replace")[-4000:]
                raise RuntimeError(f"mlflow server did not start (exit {proc.poll()}):\n{tail}")
            try:
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        yield url
    finally:
        if proc.poll() is not None:
            # It died under the test (not stopped by it): its log says why, where the test's own
            # failure only says the connection was refused.
            log.flush()
            tail = (workdir / "mlflow.log").read_text(errors="replace")[-4000:]
            print(f"mlflow server on {url} exited on its own (code {proc.returncode}); its log ends:\n{tail}", file=sys.stderr)
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)
        log.close()
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def fresh_backend_store(workdir: pathlib.Path) -> Iterator[str]:
    """A backend store URI nobody else uses: a PGlite folder in `workdir`, or, when the suite runs on
    TEST_DATABASE_URL, a new database on that server (dropped afterwards). A store shared with the
    session's server would already hold other tests' data."""
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if not admin_url:
        yield f"pglite://{workdir / 'db'}"
        return
    import psycopg2

    def admin(statement: str) -> None:
        conn = psycopg2.connect(admin_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(statement)
        conn.close()

    db_name = f"cairn_fresh_{uuid.uuid4().hex[:10]}"
    admin(f"create database {db_name}")
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + db_name
    finally:
        drop_database(admin_url, db_name)


def drop_database(admin_url: str, db_name: str) -> None:
    """Drops a test's database once its servers have stopped. Not `with (force)`: CI's role is not a
    superuser, and force refuses to end an autovacuum worker that happens to be in the new database
    (it belongs to no role). This ends the role's own leftover sessions, then drops, which stops
    autovacuum by itself; a session still closing is waited for."""
    import psycopg2

    for attempt in range(40):
        conn = psycopg2.connect(admin_url)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity"
                    " where datname = %s and usename = current_user and pid <> pg_backend_pid()",
                    (db_name,),
                )
                cur.execute(f'drop database if exists "{db_name}"')
            return
        except psycopg2.errors.ObjectInUse:
            if attempt == 39:
                raise
            time.sleep(0.25)
        finally:
            conn.close()


@contextlib.contextmanager
def fresh_cairn(server_class, prefix: str) -> Iterator:
    """A Cairn server (the root conftest's CairnServer, not started) on a store of its own in a new
    folder, for a destination a test imports into and then reads: a shared store would already hold
    the previous test's data. Stopped and removed afterwards."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    server = server_class(workdir)
    try:
        with fresh_backend_store(workdir) as uri:
            server.backend_store_uri = uri
            try:
                yield server
            finally:
                server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
