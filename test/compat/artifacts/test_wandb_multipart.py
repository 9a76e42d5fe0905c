"""Multipart artifact uploads and ranged downloads with the real wandb==0.31.0 client, on the local
folder store. wandb-core switches to multipart at a fixed 2 GiB (no setting lowers it), so the file
is 2 GiB + 1 MiB: a sparse file with distinct bytes in every 100 MiB part (a part joined out of
order would change the MD5 Cairn checks). The client sends 21 parts and completes the upload; a
second process with an empty cache downloads it, which the client does in parallel Range requests
for a file this size. The same protocol on S3 (with small parts) is covered by
test/integration/wandb-artifact-multipart.test.ts."""

from __future__ import annotations

import hashlib
import json

from test_wandb_artifact_flows import _env, _run, project_name

SIZE = 2 * 1024**3 + 1024**2
PART = 100 * 1024**2

LOG_BIG = """
    import sys, json, wandb
    project, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
    run = wandb.init(project=project, name="big")
    art = wandb.Artifact("big", type="dataset")
    # skip_cache: the client would otherwise copy 2 GiB into its cache after the upload.
    art.add_file(path, name="big.bin", skip_cache=True, policy="immutable")
    run.log_artifact(art).wait()
    json.dump({"version": art.version, "size": art.size, "digest": art.manifest.entries["big.bin"].digest}, open(out, "w"))
    run.finish()
"""

DOWNLOAD = """
    import hashlib, os, sys, json, wandb
    path, dest, out = sys.argv[1], sys.argv[2], sys.argv[3]
    a = wandb.Api().artifact(path)
    got = os.path.join(a.download(root=dest), "big.bin")
    h = hashlib.md5()
    with open(got, "rb") as f:
        for chunk in iter(lambda: f.read(16 * 1024 * 1024), b""):
            h.update(chunk)
    json.dump({"size": os.path.getsize(got), "md5": h.hexdigest()}, open(out, "w"))
    os.remove(got)
"""


def _sparse_file(path) -> str:
    """SIZE bytes, zeros except a marker at the start of every part and at the very end."""
    h = hashlib.md5()
    with open(path, "wb") as f:
        f.truncate(SIZE)
        for offset in range(0, SIZE, PART):
            f.seek(offset)
            f.write(f"part at {offset}".encode())
        f.seek(SIZE - 4)
        f.write(b"last")
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(16 * 1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


def test_a_file_over_the_multipart_threshold_uploads_in_parts_and_downloads_in_ranges(tmp_path, cairn_server):
    big = tmp_path / "big.bin"
    md5 = _sparse_file(big)
    store = cairn_server.workdir / "artifacts" / "wandb-artifacts"
    stored = store / "md5" / md5
    try:
        env = _env(tmp_path, cairn_server)
        project = project_name("multipart")
        logged = _run(tmp_path, env, LOG_BIG, project, str(big))
        assert logged["version"] == "v0" and logged["size"] == SIZE
        # The store holds the joined file under its MD5, and no part is left behind.
        assert stored.stat().st_size == SIZE
        assert list((store / "uploads").glob("*/*")) == []

        env["WANDB_CACHE_DIR"] = str(tmp_path / "fresh-cache")  # nothing cached: the bytes come from Cairn
        got = _run(tmp_path, env, DOWNLOAD, f"compat/{project}/big:v0", str(tmp_path / "dl"))
        assert got == {"size": SIZE, "md5": md5}

        # The paths taken: 21 part PUTs (answered 200), and the download in 206 ranges.
        access = [json.loads(line) for line in cairn_server.log_path.read_text(errors="replace").splitlines() if line.startswith("{")]
        access = [line for line in access if line.get("msg") == "request"]
        parts = [line for line in access if line["path"] == "/wandb-artifact-part/***" and line["status"] == 200]
        assert len(parts) == SIZE // PART + 1
        assert len([line for line in access if line["path"] == "/wandb-artifact-file/***" and line["status"] == 206]) > 1
    finally:  # 2 GiB twice over: not left for the rest of the session
        big.unlink(missing_ok=True)
        stored.unlink(missing_ok=True)
