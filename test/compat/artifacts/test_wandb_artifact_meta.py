"""Artifact tags, TTL and lineage with the real wandb==0.31.0 client: `run.log_artifact(art,
tags=[…])` with `art.ttl` set before logging, read back by `api.artifact`, then edited with
`artifact.save()` (tags added and removed, the TTL disabled with `ttl = None`, then inherited
again); `artifact.logged_by()` and `artifact.used_by()`; collections (`api.artifact_collections`,
`api.artifact_collection`, description / tags / delete); `api.artifacts` over a portfolio; and the
clear refusal of the W&B Registry."""

from __future__ import annotations

from test_wandb_artifact_flows import _env, _run, project_name

TAGS = """
    import sys, json, wandb
    from datetime import timedelta
    from wandb.sdk.artifacts.artifact_ttl import ArtifactTTL
    project, out = sys.argv[1], sys.argv[2]
    run = wandb.init(project=project, name="tagger")
    art = wandb.Artifact("tagged", type="dataset")
    with art.new_file("f.txt") as f:
        f.write("x")
    art.ttl = timedelta(days=3)
    run.log_artifact(art, tags=["raw", "q1"]).wait()
    path = f"{run.entity}/{project}/tagged:v0"
    run.finish()
    api = wandb.Api()
    read = lambda: api.artifact(path)
    a = read()
    result = {"logged": {"tags": sorted(a.tags), "ttl": a.ttl.total_seconds()}}
    a.tags = ["q1", "clean"]
    a.ttl = None
    a.save()
    b = read()
    result["edited"] = {"tags": sorted(b.tags), "ttl": b.ttl, "inherited": b._ttl_is_inherited}
    b.ttl = ArtifactTTL.INHERIT
    b.save()
    c = read()
    result["inherited"] = {"tags": sorted(c.tags), "ttl": c.ttl, "inherited": c._ttl_is_inherited}
    json.dump(result, open(out, "w"))
"""


def test_tags_and_ttl_are_logged_read_and_edited(tmp_path, cairn_server):
    got = _run(tmp_path, _env(tmp_path, cairn_server), TAGS, project_name("arttags"))
    assert got["logged"] == {"tags": ["q1", "raw"], "ttl": 3 * 24 * 3600.0}
    assert got["edited"] == {"tags": ["clean", "q1"], "ttl": None, "inherited": False}
    assert got["inherited"] == {"tags": ["clean", "q1"], "ttl": None, "inherited": True}


LINEAGE = """
    import sys, json, wandb
    project, out = sys.argv[1], sys.argv[2]
    run = wandb.init(project=project, name="maker")
    art = wandb.Artifact("lineage", type="dataset")
    with art.new_file("f.txt") as f:
        f.write("lineage")
    run.log_artifact(art).wait()
    maker = run.id
    run.finish()
    users = []
    for name in ["user-a", "user-b"]:
        r = wandb.init(project=project, name=name)
        r.use_artifact("lineage:latest")
        users.append(r.id)
        r.finish()
    a = wandb.Api().artifact(f"compat/{project}/lineage:v0")
    by = a.logged_by()
    json.dump({"maker": maker, "users": users, "logged_by": [by.id, by.name, by.project],
               "used_by": sorted(r.id for r in a.used_by())}, open(out, "w"))
"""


def test_logged_by_and_used_by_name_the_runs(tmp_path, cairn_server):
    project = project_name("artlineage")
    got = _run(tmp_path, _env(tmp_path, cairn_server), LINEAGE, project)
    assert got["logged_by"] == [got["maker"], "maker", project]  # Run.name is the display name
    assert got["used_by"] == sorted(got["users"])


COLLECTIONS = """
    import sys, json, wandb
    project, out = sys.argv[1], sys.argv[2]
    run = wandb.init(project=project, name="collector")
    for name, kind in [("raw-a", "dataset"), ("raw-b", "dataset"), ("net", "model")]:
        art = wandb.Artifact(name, type=kind)
        with art.new_file("f.txt") as f:
            f.write(name)
        run.log_artifact(art).wait()
    run.finish()
    api = wandb.Api()
    result = {"datasets": sorted(c.name for c in api.artifact_collections(project, "dataset")),
              "models": [c.name for c in api.artifact_collections(project, "model")]}
    c = api.artifact_collection("dataset", f"compat/{project}/raw-a")
    result["loaded"] = {"name": c.name, "type": c.type, "description": c.description, "tags": c.tags, "sequence": c.is_sequence()}
    c.description = "the raw data"
    c.tags = ["raw", "v1 data"]
    c.save()
    c = api.artifact_collection("dataset", f"compat/{project}/raw-a")
    result["saved"] = {"description": c.description, "tags": sorted(c.tags)}
    c.tags = ["raw"]
    c.save()
    result["untagged"] = api.artifact_collection("dataset", f"compat/{project}/raw-a").tags
    api.artifact_collection("dataset", f"compat/{project}/raw-b").delete()
    result["after_delete"] = sorted(c.name for c in api.artifact_collections(project, "dataset"))
    try:
        api.artifact(f"compat/{project}/raw-b:v0")
        result["deleted_version"] = "found"
    except Exception as e:
        result["deleted_version"] = type(e).__name__
    json.dump(result, open(out, "w"))
"""


def test_collections_are_listed_described_tagged_and_deleted(tmp_path, cairn_server):
    got = _run(tmp_path, _env(tmp_path, cairn_server), COLLECTIONS, project_name("artcoll"))
    assert got["datasets"] == ["raw-a", "raw-b"] and got["models"] == ["net"]
    assert got["loaded"] == {"name": "raw-a", "type": "dataset", "description": None, "tags": [], "sequence": True}
    assert got["saved"] == {"description": "the raw data", "tags": ["raw", "v1 data"]}
    assert got["untagged"] == ["raw"]
    assert got["after_delete"] == ["raw-a"]
    assert got["deleted_version"] != "found"


PORTFOLIO = """
    import sys, json, wandb
    project, out = sys.argv[1], sys.argv[2]
    run = wandb.init(project=project, name="linker")
    for body in ["first", "second"]:
        art = wandb.Artifact("clf", type="model")
        with art.new_file("model.txt") as f:
            f.write(body)
        run.log_artifact(art).wait()
        run.link_artifact(art, f"compat/model-registry/portfolio-{project}", aliases=["candidate"] if body == "second" else [])
    run.finish()
    api = wandb.Api()
    listed = api.artifacts("model", f"compat/model-registry/portfolio-{project}")
    json.dump([{"version": a.version, "source": a.source_name, "is_link": a.is_link, "aliases": sorted(a.aliases)} for a in listed], open(out, "w"))
"""


def test_api_artifacts_lists_a_portfolio_s_linked_versions(tmp_path, cairn_server):
    project = project_name("artport")
    got = _run(tmp_path, _env(tmp_path, cairn_server), PORTFOLIO, project)
    assert got == [
        {"version": "v1", "source": "clf:v1", "is_link": True, "aliases": ["candidate", "latest"]},
        {"version": "v0", "source": "clf:v0", "is_link": True, "aliases": []},
    ]


REGISTRY = """
    import sys, json, wandb
    project, out = sys.argv[1], sys.argv[2]
    result = {}
    api = wandb.Api()
    def attempt(key, fn):
        try:
            fn()
            result[key] = "ok"
        except Exception as e:
            result[key] = str(e)
    attempt("registries", lambda: list(api.registries()))
    run = wandb.init(project=project, name="registry")
    art = wandb.Artifact("m", type="model")
    with art.new_file("f.txt") as f:
        f.write("m")
    run.log_artifact(art).wait()
    attempt("link", lambda: run.link_artifact(art, "wandb-registry-model/coll"))
    run.finish()
    attempt("get", lambda: api.artifact("wandb-registry-model/coll:latest"))
    json.dump(result, open(out, "w"))
"""


def test_the_w_and_b_registry_is_refused_with_a_clear_message(tmp_path, cairn_server):
    got = _run(tmp_path, _env(tmp_path, cairn_server), REGISTRY, project_name("artreg"))
    # The client itself checks the server's features before searching registries.
    assert "Registry search API is not enabled" in got["registries"]
    for key in ("link", "get"):
        assert "The W&B Registry (organizations and 'wandb-registry-*' projects) is not implemented by Cairn" in got[key], got[key]
