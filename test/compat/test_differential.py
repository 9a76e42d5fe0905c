"""Differential test: the same request sequences sent to the real `mlflow server` 3.18.0 (from this
venv, on a fresh SQLite file) and to Cairn; status codes and full JSON bodies compared after
normalising ids, clocks and locations. Every remaining difference is in differential/allowed.yaml
with its reason; an entry that no longer matches a difference fails too, so the list stays true.
"""

from __future__ import annotations

import os
import pathlib
import uuid

import pytest
import yaml

import reference_servers
from differential.engine import Server, differences, normalise, send
from differential.scenarios import FAMILIES

HERE = pathlib.Path(__file__).resolve().parent
ALLOWED = yaml.safe_load((HERE / "differential" / "allowed.yaml").read_text()) or {}
SUFFIX = uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def mlflow_server():
    """The reference: `mlflow server` from the venv running this suite, started once per session
    (CAIRN_DIFF_MLFLOW_URL points at one already running instead, to iterate quickly)."""
    if os.environ.get("CAIRN_DIFF_MLFLOW_URL"):
        yield os.environ["CAIRN_DIFF_MLFLOW_URL"]
        return
    # Without the job runner (eight more Python processes importing mlflow, ~40 s of CPU at start):
    # none of the compared requests starts a job.
    with reference_servers.mlflow_server() as url:
        yield url


def test_short_saved_ids_are_replaced_as_whole_words_only():
    """An experiment id ("123") inside a longer id is not that id: a fresh database's small ids made
    Cairn's "0123456789abcdef" read "0<<exp>>456789abcdef" and differ from the reference's."""
    body = {"message": "Run with id=0123456789abcdef not found", "uri": "mlflow-artifacts:/123/abc", "run": "x-a1b2c3d4e5f6a7b8-y"}
    got = normalise(body, {"exp": "123", "run": "a1b2c3d4e5f6a7b8"})
    assert got == {"message": "Run with id=0123456789abcdef not found", "uri": "mlflow-artifacts:/<<exp>>/abc", "run": "x-<<run>>-y"}
    # A limit in a message is a number, not the id that happens to equal it.
    limit = {"message": "must specify at most 100 run_ids, experiment 100"}
    assert normalise(limit, {"exp": "100"}) == {"message": "must specify at most 100 run_ids, experiment <<exp>>"}
    assert normalise({"message": "more than 100"}, {"exp": "100"}, short_ids=("exp",)) == {"message": "more than 100"}


def test_allow_list_is_reviewed():
    """Every entry names a step that exists and says why the difference is deliberate."""
    ids = {s["id"] for steps in FAMILIES.values() for s in steps}
    assert len(ids) == sum(len(s) for s in FAMILIES.values()), "step ids must be unique"
    for step_id, entry in ALLOWED.items():
        assert step_id in ids, f"allow-list entry for unknown step {step_id}"
        assert isinstance(entry, dict) and len(str(entry.get("reason", "")).strip()) > 20, f"{step_id}: a reason is required"
        assert set(entry) <= {"reason", "status", "body", "fields", "headers"}, f"{step_id}: unknown keys {set(entry)}"


@pytest.mark.parametrize("family", list(FAMILIES))
def test_same_answers_as_mlflow(family, mlflow_server, server_url):
    ref = Server("mlflow", mlflow_server, vars={"sfx": SUFFIX})
    got = Server("cairn", server_url, vars={"sfx": SUFFIX})
    problems = []
    for step in FAMILIES[family]:
        a = send(ref, step)
        b = send(got, step)
        allowed = ALLOWED.get(step["id"])
        diffs = differences(step, a, ref.vars, b, got.vars, allowed)
        if diffs:
            problems.append(f"[{step['id']}] {step.get('method', 'GET')} {step['path']}\n  " + "\n  ".join(diffs))
        elif allowed and not differences(step, a, ref.vars, b, got.vars, None):
            problems.append(f"[{step['id']}] allow-list entry no longer needed (the answers agree): remove it")
    assert not problems, f"{len(problems)} difference(s) from mlflow server in {family}:\n" + "\n".join(problems)
