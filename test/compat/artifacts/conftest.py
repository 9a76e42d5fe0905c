"""Fixtures for the artifact compat tests: Cairn on the local folder, on S3 (proxied) and in direct mode.

The S3-compatible server is the one CI starts with scripts/s3-server.sh (CAIRN_TEST_S3_ENDPOINT,
CAIRN_TEST_S3_BUCKET, AWS_* exported); without it, moto's server from this venv is started here on a
free loopback port. In CI (CI=true) a missing S3 server is a failure, not a skip.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import boto3
import mlflow
import pytest
import requests


def _compat(config):
    """The suite's conftest (test/compat): loaded by pytest already, found among its plugins."""
    target = pathlib.Path(__file__).resolve().parents[1] / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if path and pathlib.Path(path).resolve() == target:
            return plugin
    raise RuntimeError(f"{target} is not loaded")


S3_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID") or "cairn-test"
S3_SECRET = os.environ.get("AWS_SECRET_ACCESS_KEY") or "cairn-test-secret"
S3_REGION = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class S3:
    def __init__(self, endpoint: str, bucket: str):
        self.endpoint = endpoint
        self.bucket = bucket
        self.env = {
            "MLFLOW_S3_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": S3_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET,
            "AWS_DEFAULT_REGION": S3_REGION,
        }

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=S3_KEY_ID,
            aws_secret_access_key=S3_SECRET,
            region_name=S3_REGION,
        )


@pytest.fixture(scope="session")
def s3(pytestconfig):
    endpoint = os.environ.get("CAIRN_TEST_S3_ENDPOINT")
    if endpoint:
        yield S3(endpoint, os.environ.get("CAIRN_TEST_S3_BUCKET") or "cairn-test")
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI must run the artifact compat tests on S3: eval \"$(bash scripts/s3-server.sh start)\" first")
    port = _compat(pytestconfig)._free_port()
    log = open(tempfile.mkstemp(prefix="cairn-moto-", suffix=".log")[1], "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{endpoint}/moto-api/", timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(f"moto did not start (log: {log.name})")
                time.sleep(0.2)
        store = S3(endpoint, "cairn-compat")
        store.client().create_bucket(Bucket=store.bucket)
        yield store
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def _server(config, extra_args, extra_env):
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-compat-art-"))
    server = _compat(config).CairnServer(workdir, extra_args=extra_args, extra_env=extra_env)
    server.start()
    return server, workdir


def _stop(server, workdir):
    server.stop()
    if not os.environ.get("CAIRN_COMPAT_KEEP_TMP"):
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def cairn_s3(s3, pytestconfig):
    """Cairn proxying artifacts into s3://<bucket>/<unique prefix>."""
    prefix = f"proxied-{uuid.uuid4().hex[:8]}"
    server, workdir = _server(pytestconfig, ["--artifacts-destination", f"s3://{s3.bucket}/{prefix}"], s3.env)
    server.s3_prefix = prefix
    yield server
    _stop(server, workdir)


@pytest.fixture(scope="session")
def cairn_direct(s3, pytestconfig):
    """Cairn with --no-serve-artifacts: runs get s3:// URIs and the client writes to S3 itself."""
    prefix = f"direct-{uuid.uuid4().hex[:8]}"
    server, workdir = _server(pytestconfig, ["--no-serve-artifacts", "--default-artifact-root", f"s3://{s3.bucket}/{prefix}"], s3.env)
    server.s3_prefix = prefix
    yield server
    _stop(server, workdir)


def _use(monkeypatch, url: str) -> str:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    mlflow.set_tracking_uri(url)
    return url


@pytest.fixture(params=["local", "s3"])
def store(request, monkeypatch):
    """Run the test once against Cairn on the local folder and once on S3 (proxied)."""
    if request.param == "local":
        server = request.getfixturevalue("cairn_server")
    else:
        server = request.getfixturevalue("cairn_s3")
    _use(monkeypatch, server.url)
    server.kind = request.param
    return server


@pytest.fixture(scope="session")
def cairn_pglite(pytestconfig):
    """Cairn on an embedded database of its own (PGlite) whatever TEST_DATABASE_URL says, artifacts in a folder."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="cairn-compat-pglite-"))
    server = _compat(pytestconfig).CairnServer(workdir, extra_args=["--backend-store-uri", f"pglite://{workdir / 'db'}"])
    server.start()
    yield server
    _stop(server, workdir)


@pytest.fixture(params=["pglite", "s3"])
def trace_server(request, monkeypatch):
    """Tracing on the stores the session server does not use: PGlite (folder), and S3 (proxied)."""
    server = request.getfixturevalue("cairn_pglite" if request.param == "pglite" else "cairn_s3")
    _use(monkeypatch, server.url)
    server.kind = request.param
    return server


@pytest.fixture
def direct(cairn_direct, s3, monkeypatch):
    """The direct-mode server, with the client holding S3 credentials as direct mode requires."""
    _use(monkeypatch, cairn_direct.url)
    for k, v in s3.env.items():
        monkeypatch.setenv(k, v)
    return cairn_direct
