"""W&B Artifacts with the real wandb==0.31.0 client: log (add_file, add_dir, new_file, aliases,
.wait()), digest dedup, a second version, use_artifact by latest / vN / alias, download, api.artifact,
api.artifacts listing, logged_artifacts / used_artifacts, alias / description / metadata edits
with artifact.save(), artifact.delete(), and a file refused when
its bytes do not match its digest."""

from __future__ import annotations

import json

import requests

from test_wandb import ENTITY, make_wandb_env, project_name, run_python, wandb_key  # noqa: F401  (wandb_key is a fixture)

LOG = """
    import os, sys, json, wandb
    project, content, out = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs("data/sub", exist_ok=True)
    open("data/a.txt", "w").write("alpha\\n")
    open("data/sub/b.txt", "w").write(content)
    open("single.txt", "w").write("single file\\n")
    run = wandb.init(project=project, name="producer")
    art = wandb.Artifact("dataset", type="dataset", metadata={"rows": 2}, description="two files")
    art.add_dir("data")
    art.add_file("single.txt", name="extra/single.txt")
    with art.new_file("generated.txt") as f:
        f.write("generated\\n")
    run.log_artifact(art, aliases=["best"] if content == "beta\\n" else ["candidate"]).wait()
    json.dump({"id": art.id, "version": art.version, "digest": art.digest, "run": run.id}, open(out, "w"))
    run.finish()
"""

USE = """
    import os, sys, json, wandb
    project, dest, out = sys.argv[1], sys.argv[2], sys.argv[3]
    run = wandb.init(project=project, name="consumer")
    result = {"run": run.id}
    for spec in ["dataset:latest", "dataset:v0", "dataset:v1", "dataset:best", "dataset:candidate"]:
        a = run.use_artifact(spec)
        result[spec] = {"id": a.id, "version": a.version, "aliases": sorted(a.aliases), "metadata": a.metadata,
                        "description": a.description, "type": a.type}
    a = run.use_artifact("dataset:v0")
    path = a.download(root=dest)
    files = {}
    for root, _, names in os.walk(path):
        for n in names:
            p = os.path.join(root, n)
            files[os.path.relpath(p, path)] = open(p).read()
    result["files"] = files
    run.finish()
    api = wandb.Api()
    b = api.artifact(f"{run.entity}/{project}/dataset:best")
    result["api"] = {"version": b.version, "aliases": sorted(b.aliases), "metadata": b.metadata, "size": b.size,
                     "file_count": b.file_count}
    result["entry"] = open(b.get_entry("extra/single.txt").download(root=dest + "-entry")).read()
    json.dump(result, open(out, "w"))
"""


LIST = """
    import sys, json, wandb
    path, first_run, second_run, consumer, out = sys.argv[1:6]
    api = wandb.Api()
    result = {}
    result["versions"] = sorted(a.version for a in api.artifacts("dataset", path + "/dataset"))
    result["logged_first"] = sorted(a.version for a in api.run(path + "/" + first_run).logged_artifacts())
    result["logged_second"] = sorted(a.version for a in api.run(path + "/" + second_run).logged_artifacts())
    result["used"] = sorted(a.version for a in api.run(path + "/" + consumer).used_artifacts())
    v0 = api.artifact(path + "/dataset:v0")
    v0.aliases.remove("best")
    v0.aliases.append("prod")
    v0.description = "edited"
    v0.metadata["rows"] = 3
    v0.save()
    prod = api.artifact(path + "/dataset:prod")
    result["edited"] = {"version": prod.version, "aliases": sorted(prod.aliases), "description": prod.description, "metadata": prod.metadata}
    try:
        api.artifact(path + "/dataset:best")
        result["best_after_edit"] = "found"
    except Exception as e:
        result["best_after_edit"] = type(e).__name__
    v1 = api.artifact(path + "/dataset:v1")
    try:
        v1.delete()
        result["delete_plain"] = "deleted"
    except Exception as e:
        result["delete_plain"] = str(e)
    v1.delete(delete_aliases=True)
    result["after_delete"] = sorted(a.version for a in api.artifacts("dataset", path + "/dataset"))
    result["latest_after_delete"] = api.artifact(path + "/dataset:latest").version
    try:
        api.artifact(path + "/dataset:v1")
        result["v1_after_delete"] = "found"
    except Exception as e:
        result["v1_after_delete"] = type(e).__name__
    json.dump(result, open(out, "w"))
"""


def _log(tmp_path, env, project, content, tag):
    out = tmp_path / f"log-{tag}.json"
    proc = run_python(tmp_path, env, LOG, project, content, str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def test_log_dedup_version_use_download(tmp_path, cairn_server, wandb_key, client):  # noqa: F811
    env = make_wandb_env(tmp_path, cairn_server.url, wandb_key)
    project = project_name("artifacts")
    first = _log(tmp_path, env, project, "beta\n", "1")
    assert first["version"] == "v0"
    again = _log(tmp_path, env, project, "beta\n", "2")  # same contents: no new version
    assert (again["version"], again["id"], again["digest"]) == ("v0", first["id"], first["digest"])
    second = _log(tmp_path, env, project, "beta, changed\n", "3")
    assert second["version"] == "v1" and second["digest"] != first["digest"]

    out = tmp_path / "use.json"
    proc = run_python(tmp_path, env, USE, project, str(tmp_path / "dl"), str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    used = json.loads(out.read_text())
    assert used["dataset:latest"]["version"] == "v1" and used["dataset:latest"]["id"] == second["id"]
    assert used["dataset:v1"] == used["dataset:latest"] == used["dataset:candidate"]
    assert used["dataset:v0"] == used["dataset:best"]
    assert used["dataset:v0"]["aliases"] == ["best"]
    assert used["dataset:v1"]["aliases"] == ["candidate", "latest"]
    assert used["dataset:v0"]["metadata"] == {"rows": 2}
    assert (used["dataset:v0"]["description"], used["dataset:v0"]["type"]) == ("two files", "dataset")
    assert used["files"] == {"a.txt": "alpha\n", "sub/b.txt": "beta\n", "extra/single.txt": "single file\n", "generated.txt": "generated\n"}
    assert used["api"] == {"version": "v0", "aliases": ["best"], "metadata": {"rows": 2}, "size": 33, "file_count": 4}
    assert used["entry"] == "single file\n"

    # Listing versions, lineage, and deletion (aliases other than latest need delete_aliases=True).
    out = tmp_path / "list.json"
    path = f"{ENTITY}/{project}"
    proc = run_python(tmp_path, env, LIST, path, first["run"], second["run"], used["run"], str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = json.loads(out.read_text())
    assert listed["versions"] == ["v0", "v1"]
    assert listed["logged_first"] == ["v0"] and listed["logged_second"] == ["v1"]
    assert listed["used"] == ["v0", "v1"]
    assert listed["edited"] == {"version": "v0", "aliases": ["prod"], "description": "edited", "metadata": {"rows": 3}}
    assert listed["best_after_edit"] != "found"
    assert "has aliases (candidate)" in listed["delete_plain"]
    assert listed["after_delete"] == ["v0"]
    assert listed["latest_after_delete"] == "v0"
    assert listed["v1_after_delete"] != "found"
    # The experiment exists for MLflow too: the W&B project is its experiment.
    assert client.get_experiment_by_name(project) is not None


def test_an_upload_whose_bytes_do_not_match_its_md5_is_refused(tmp_path, cairn_server, wandb_key):  # noqa: F811
    """Drives the same GraphQL the client sends, then PUTs other bytes to the file's upload URL."""
    project = project_name("artbad")
    auth = ("api", wandb_key)
    gql = lambda q, v: requests.post(f"{cairn_server.url}/graphql", json={"query": q, "variables": v}, auth=auth, timeout=30).json()  # noqa: E731
    created = gql(
        "mutation($input: CreateArtifactInput!) { createArtifact(input: $input) { artifact { id state } } }",
        {"input": {"artifactTypeName": "dataset", "artifactCollectionNames": ["bad"], "entityName": "compat", "projectName": project, "digest": "0" * 32}},
    )
    art_id = created["data"]["createArtifact"]["artifact"]["id"]
    import base64, hashlib
    md5 = base64.b64encode(hashlib.md5(b"the real bytes").digest()).decode()
    files = gql(
        "mutation($input: CreateArtifactFilesInput!) { createArtifactFiles(input: $input) { files { edges { node { uploadUrl } } } } }",
        {"input": {"storageLayout": "V2", "artifactFiles": [{"artifactID": art_id, "name": "x.txt", "md5": md5}]}},
    )
    url = files["data"]["createArtifactFiles"]["files"]["edges"][0]["node"]["uploadUrl"]
    bad = requests.put(url, data=b"other bytes", timeout=30)
    assert bad.status_code == 400 and "Digest mismatch" in bad.json()["message"]
    # Nothing half-written stays: the same URL still wants the upload, and the right bytes pass.
    again = gql(
        "mutation($input: CreateArtifactFilesInput!) { createArtifactFiles(input: $input) { files { edges { node { uploadUrl } } } } }",
        {"input": {"storageLayout": "V2", "artifactFiles": [{"artifactID": art_id, "name": "x.txt", "md5": md5}]}},
    )
    assert again["data"]["createArtifactFiles"]["files"]["edges"][0]["node"]["uploadUrl"]
    assert requests.put(url, data=b"the real bytes", timeout=30).status_code == 200
