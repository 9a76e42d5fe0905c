"""Artifacts through the real mlflow client, on the local folder and on S3 (proxied), plus direct mode.

Every test that takes `store` runs twice: Cairn with --artifacts-destination on a local folder, and on
s3://<bucket>/<prefix> (moto, or the server scripts/s3-server.sh started).

A few checks use plain HTTP (`requests`) next to the client, each where the client has no call for
what is checked: the tracking-side listing (/api/2.0/mlflow/artifacts/list, which only the UI and
Databricks' repository use), DELETE of a path that is not there, the presigned endpoint's status, and
the proxy's 501 in direct mode.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import pathlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository  # noqa: E402


def _write_tree(root: pathlib.Path, files: int = 100) -> None:
    """`files` files over nested folders (depth up to 3), text and binary."""
    rng = np.random.default_rng(7)
    for i in range(files):
        sub = root / f"level1-{i % 4}" / (f"level2-{i % 3}" if i % 2 else "") / (f"level3-{i % 5}" if i % 7 == 0 else "")
        sub.mkdir(parents=True, exist_ok=True)
        if i % 3 == 0:
            (sub / f"file-{i}.bin").write_bytes(rng.bytes(1000 + i * 37))
        else:
            (sub / f"file-{i}.txt").write_text(f"file {i}\n" * (i + 1))


def _assert_same_tree(a: pathlib.Path, b: pathlib.Path) -> int:
    left = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    right = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    assert left == right
    for rel in left:
        assert filecmp.cmp(a / rel, b / rel, shallow=False), rel
    return len(left)


def _sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 * 1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def test_log_artifact_and_download_identical_bytes(store, exp_name, tmp_path):
    mlflow.set_experiment(exp_name)
    binary = tmp_path / "weights.bin"
    binary.write_bytes(os.urandom(3 * 1024 * 1024 + 11))
    text = tmp_path / "notes with space.txt"
    text.write_text("héllo wörld\n")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(binary))
        mlflow.log_artifact(str(text), artifact_path="docs")
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    out = pathlib.Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="weights.bin", dst_path=str(tmp_path / "dl")))
    assert out.read_bytes() == binary.read_bytes()
    doc = pathlib.Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="docs/notes with space.txt", dst_path=str(tmp_path / "dl2")))
    assert doc.read_text() == "héllo wörld\n"


def test_log_artifacts_nested_100_files_and_download_folder(store, exp_name, tmp_path):
    mlflow.set_experiment(exp_name)
    src = tmp_path / "src"
    _write_tree(src)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(src), artifact_path="data")
    client = MlflowClient()
    top = client.list_artifacts(run.info.run_id)
    assert [(f.path, f.is_dir) for f in top] == [("data", True)]
    level1 = client.list_artifacts(run.info.run_id, "data")
    assert [f.path for f in level1] == [f"data/level1-{i}" for i in range(4)]
    assert all(f.is_dir and f.file_size is None for f in level1)
    files = [f for f in client.list_artifacts(run.info.run_id, "data/level1-0") if not f.is_dir]
    assert files and all(f.file_size == (src / f.path[len("data/"):]).stat().st_size for f in files)
    whole = pathlib.Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="data", dst_path=str(tmp_path / "out")))
    assert _assert_same_tree(src, whole) == 100
    sub = pathlib.Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="data/level1-1", dst_path=str(tmp_path / "sub")))
    _assert_same_tree(src / "level1-1", sub)


def test_log_text_dict_image_figure_table(store, exp_name, tmp_path):
    mlflow.set_experiment(exp_name)
    image = (np.arange(24 * 32 * 3) % 255).astype(np.uint8).reshape(24, 32, 3)
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [3, 1, 2])
    table = pd.DataFrame({"inputs": ["a", "b"], "outputs": [1, 2]})
    with mlflow.start_run() as run:
        mlflow.log_text("some text\n", "notes/readme.txt")
        mlflow.log_dict({"a": 1, "b": [1, 2]}, "config/params.json")
        mlflow.log_dict({"a": 1}, "config/params.yaml")
        mlflow.log_image(image, artifact_file="images/img.png")
        mlflow.log_figure(fig, "figures/plot.png")
        mlflow.log_table(data=table, artifact_file="tables/results.json")
    plt.close(fig)
    root = f"runs:/{run.info.run_id}"
    assert mlflow.artifacts.load_text(f"{root}/notes/readme.txt") == "some text\n"
    assert mlflow.artifacts.load_dict(f"{root}/config/params.json") == {"a": 1, "b": [1, 2]}
    assert mlflow.artifacts.load_dict(f"{root}/config/params.yaml") == {"a": 1}
    loaded = np.asarray(mlflow.artifacts.load_image(f"{root}/images/img.png"))
    assert loaded.shape == image.shape and (loaded == image).all()
    assert mlflow.artifacts.load_image(f"{root}/figures/plot.png").size[0] > 100
    saved = json.loads(mlflow.artifacts.load_text(f"{root}/tables/results.json"))
    assert saved["columns"] == ["inputs", "outputs"] and saved["data"] == [["a", 1], ["b", 2]]
    loaded_table = mlflow.load_table("tables/results.json", run_ids=[run.info.run_id])
    assert list(loaded_table["outputs"]) == [1, 2]
    paths = sorted(f.path for f in MlflowClient().list_artifacts(run.info.run_id))
    assert paths == ["config", "figures", "images", "notes", "tables"]


def test_list_artifacts_of_a_file_is_empty_and_sizes_are_exact(store, exp_name, tmp_path):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_text("x" * 1234, "d/one.txt")
    client = MlflowClient()
    assert [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run.info.run_id, "d")] == [("d/one.txt", False, 1234)]
    assert client.list_artifacts(run.info.run_id, "d/one.txt") == []
    assert client.list_artifacts(run.info.run_id, "missing") == []


def test_delete_through_the_api(store, exp_name, tmp_path):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_text("keep", "keep.txt")
        mlflow.log_text("a", "trash/a.txt")
        mlflow.log_text("b", "trash/deeper/b.txt")
    repo = get_artifact_repository(run.info.artifact_uri)
    repo.delete_artifacts("trash")
    assert [f.path for f in MlflowClient().list_artifacts(run.info.run_id)] == ["keep.txt"]
    # A single file, then the plain REST call the UI and scripts use.
    repo.delete_artifacts("keep.txt")
    assert MlflowClient().list_artifacts(run.info.run_id) == []
    path = run.info.artifact_uri.replace("mlflow-artifacts:/", "")
    assert requests.delete(f"{store.url}/api/2.0/mlflow-artifacts/artifacts/{path}/never-there", timeout=10).status_code == 200


def test_tracking_side_listing(store, exp_name):
    """Files logged by the client, listed by plain HTTP: the client never calls this endpoint."""
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_text("m", "model/MLmodel")
        mlflow.log_text("r", "readme.txt")
    res = requests.get(f"{store.url}/api/2.0/mlflow/artifacts/list", params={"run_id": run.info.run_id}, timeout=10).json()
    assert res["root_uri"] == run.info.artifact_uri
    assert res["files"] == [{"path": "model", "is_dir": True}, {"path": "readme.txt", "is_dir": False, "file_size": 1}]


def test_missing_artifact_is_an_error(store, exp_name, tmp_path, http_log):
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_text("x", "here.txt")
    # The client wraps the server's answer in its own message (as with mlflow server 3.18, whose
    # answer is the same 404 RESOURCE_DOES_NOT_EXIST); the answer itself is read from the log.
    with pytest.raises(MlflowException, match="Failed to download artifacts from path 'not-here.txt'"), http_log.call() as call:
        mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="not-here.txt", dst_path=str(tmp_path))
    fetches = [(c.method, c.status, c.error_code) for c in call.requests if c.endpoint.endswith("/not-here.txt")]
    assert fetches == [("GET", 404, "RESOURCE_DOES_NOT_EXIST")], [(c.method, c.endpoint, c.status) for c in call.requests]
    assert not (tmp_path / "not-here.txt").exists()


def test_multipart_upload_falls_back_or_goes_straight_to_s3(store, exp_name, tmp_path, monkeypatch, s3, http_log):
    """With proxy multipart on: S3 takes presigned parts; the local folder answers 501 and gets one PUT."""
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(5 * 1024 * 1024))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * 1024 * 1024))
    big = tmp_path / "chunks.bin"
    big.write_bytes(os.urandom(12 * 1024 * 1024 + 3))
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        with http_log.call() as call:
            mlflow.log_artifact(str(big), artifact_path="mp")
    # What the client sent to Cairn's artifact endpoints for this one file (after the tracking calls
    # that find the run; the parts themselves go straight to S3).
    artifact_calls = [c for c in call.requests if not c.endpoint.startswith("/api/2.0/mlflow/")]
    sent = [(c.method, c.endpoint.split("/mpu/")[1].split("/")[0] if "/mpu/" in c.endpoint else c.endpoint, c.status, c.error_code) for c in artifact_calls]
    if store.kind == "s3":
        assert sent == [("POST", "create", 200, None), ("POST", "complete", 200, None)], sent
    else:
        # Refused with 501 NOT_IMPLEMENTED, then the whole file in one PUT through the proxy.
        assert sent == [("POST", "create", 501, "NOT_IMPLEMENTED"), ("PUT", "/mp/chunks.bin", 200, None)], sent
    if store.kind == "s3":
        key = f"{store.s3_prefix}/{run.info.artifact_uri.replace('mlflow-artifacts:/', '')}/mp/chunks.bin"
        etag = s3.client().head_object(Bucket=s3.bucket, Key=key)["ETag"]
        assert etag.strip('"').endswith("-3"), etag  # a multipart object of 3 parts
    out = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="mp/chunks.bin", dst_path=str(tmp_path / "dl"))
    assert _sha256(pathlib.Path(out)) == _sha256(big)


def test_600_mib_multipart_on_s3(cairn_s3, s3, exp_name, tmp_path, monkeypatch):
    """A 600 MiB file: 60 presigned parts of 10 MiB straight to S3, then streamed back through Cairn."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", cairn_s3.url)
    mlflow.set_tracking_uri(cairn_s3.url)
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(100 * 1024 * 1024))
    big = tmp_path / "big.bin"
    digest = hashlib.sha256()
    block = os.urandom(8 * 1024 * 1024)
    with open(big, "wb") as f:
        for i in range(75):  # 600 MiB
            chunk = bytes([i]) + block[1:]
            digest.update(chunk)
            f.write(chunk)
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big), artifact_path="large")
    key = f"{cairn_s3.s3_prefix}/{run.info.artifact_uri.replace('mlflow-artifacts:/', '')}/large/big.bin"
    head = s3.client().head_object(Bucket=s3.bucket, Key=key)
    assert head["ContentLength"] == 600 * 1024 * 1024
    assert head["ETag"].strip('"').endswith("-60"), head["ETag"]
    big.unlink()
    out = pathlib.Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="large/big.bin", dst_path=str(tmp_path / "dl")))
    assert _sha256(out) == digest.hexdigest()


def test_presigned_download(store, exp_name, tmp_path, monkeypatch):
    """MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD: ranged GETs on a presigned URL on S3; the local folder's 501 falls back."""
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(1024 * 1024))
    src = tmp_path / "ranged.bin"
    src.write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    mlflow.set_experiment(exp_name)
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(src))
    status = requests.get(
        f"{store.url}/api/2.0/mlflow-artifacts/presigned/{run.info.artifact_uri.replace('mlflow-artifacts:/', '')}/ranged.bin", timeout=10
    ).status_code
    assert status == (200 if store.kind == "s3" else 501)
    out = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="ranged.bin", dst_path=str(tmp_path / "dl"))
    assert pathlib.Path(out).read_bytes() == src.read_bytes()


def test_direct_mode_client_writes_to_s3(direct, s3, exp_name, tmp_path):
    mlflow.set_experiment(exp_name)
    src = tmp_path / "tree"
    _write_tree(src, files=12)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(src), artifact_path="d")
        mlflow.log_text("direct", "note.txt")
    assert run.info.artifact_uri.startswith(f"s3://{s3.bucket}/{direct.s3_prefix}/")
    key = run.info.artifact_uri[len(f"s3://{s3.bucket}/"):] + "/note.txt"
    assert s3.client().get_object(Bucket=s3.bucket, Key=key)["Body"].read() == b"direct"
    client = MlflowClient()
    assert sorted(f.path for f in client.list_artifacts(run.info.run_id)) == ["d", "note.txt"]
    out = pathlib.Path(mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="d", dst_path=str(tmp_path / "out")))
    assert _assert_same_tree(src, out) == 12
    # The proxy is off, and says so; the tracking-side listing reads the configured root.
    assert requests.put(f"{direct.url}/api/2.0/mlflow-artifacts/artifacts/1/x.txt", data=b"x", timeout=10).status_code == 501
    listed = requests.get(f"{direct.url}/api/2.0/mlflow/artifacts/list", params={"run_id": run.info.run_id}, timeout=10).json()
    assert [f["path"] for f in listed["files"]] == ["d", "note.txt"]


def test_sklearn_autolog(store, exp_name, tmp_path):
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mlflow.set_experiment(exp_name)
    X, y = load_iris(return_X_y=True)
    mlflow.sklearn.autolog(log_input_examples=True, silent=True)
    try:
        with mlflow.start_run() as run:
            model = LogisticRegression(max_iter=300).fit(X, y)
    finally:
        mlflow.sklearn.autolog(disable=True)
    client = MlflowClient()
    data = client.get_run(run.info.run_id).data
    assert data.params["max_iter"] == "300"
    assert "training_accuracy_score" in data.metrics
    artifacts = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"estimator.html", "training_confusion_matrix.png"} <= artifacts, artifacts
    # The model itself goes through MLflow 3 logged models, its files through the artifact proxy.
    models = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")
    assert len(models) == 1, models
    loaded = mlflow.sklearn.load_model(f"models:/{models[0].model_id}")
    assert (loaded.predict(X) == model.predict(X)).all()
    files = {f.path.rsplit("/", 1)[-1] for f in mlflow.artifacts.list_artifacts(artifact_uri=models[0].artifact_location)}
    assert {"MLmodel", "model.pkl"} <= files, files
