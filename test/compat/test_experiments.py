"""Experiments through the real client: create/get/rename/delete/restore, tags, search."""

from __future__ import annotations

import time
import uuid

import mlflow
import pytest
from mlflow.entities import ViewType
from mlflow.exceptions import MlflowException


def test_default_experiment_exists(client):
    exp = client.get_experiment("0")
    assert exp.name == "Default"
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == "mlflow-artifacts:/0"


def test_set_experiment_creates_then_reuses(exp_name):
    exp = mlflow.set_experiment(exp_name)
    assert exp.name == exp_name
    assert exp.lifecycle_stage == "active"
    assert exp.experiment_id.isdigit()
    assert exp.artifact_location == f"mlflow-artifacts:/{exp.experiment_id}"
    assert exp.creation_time and exp.creation_time > 1_600_000_000_000
    again = mlflow.set_experiment(exp_name)
    assert again.experiment_id == exp.experiment_id
    by_id = mlflow.set_experiment(experiment_id=exp.experiment_id)
    assert by_id.name == exp_name


def test_create_get_and_get_by_name(client, exp_name):
    exp_id = mlflow.create_experiment(exp_name, tags={"team": "ml", "k2": "v2"})
    exp = client.get_experiment(exp_id)
    assert exp.experiment_id == exp_id
    assert exp.name == exp_name
    assert exp.tags == {"team": "ml", "k2": "v2"}
    assert mlflow.get_experiment(exp_id).name == exp_name
    by_name = mlflow.get_experiment_by_name(exp_name)
    assert by_name is not None and by_name.experiment_id == exp_id
    assert client.get_experiment_by_name(exp_name + "-missing") is None


def test_create_with_artifact_location(client, exp_name):
    exp_id = client.create_experiment(exp_name, artifact_location="s3://bucket/some/where")
    assert client.get_experiment(exp_id).artifact_location == "s3://bucket/some/where"


def test_create_duplicate_name_fails(client, exp_name, http_log):
    client.create_experiment(exp_name)
    with pytest.raises(MlflowException) as e, http_log.call("/experiments/create") as call:
        client.create_experiment(exp_name)
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert call.status == 400


def test_get_unknown_experiment_is_404(client, http_log):
    with pytest.raises(MlflowException) as e, http_log.call("/experiments/get") as call:
        client.get_experiment("987654321")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert call.status == 404


def test_rename_experiment(client, exp_name):
    exp_id = client.create_experiment(exp_name)
    new_name = exp_name + "-renamed"
    client.rename_experiment(exp_id, new_name)
    assert client.get_experiment(exp_id).name == new_name
    assert client.get_experiment_by_name(new_name).experiment_id == exp_id
    assert client.get_experiment_by_name(exp_name) is None


def test_rename_to_existing_name_fails(client, exp_name, http_log):
    a = client.create_experiment(exp_name + "-a")
    client.create_experiment(exp_name + "-b")
    with pytest.raises(MlflowException) as e, http_log.call("/experiments/update") as call:
        client.rename_experiment(a, exp_name + "-b")
    # mlflow server 3.18 answers BAD_REQUEST (its SQL store's unique-constraint failure), 400.
    assert e.value.error_code == "BAD_REQUEST"
    assert call.status == 400
    assert client.get_experiment(a).name == exp_name + "-a"


def test_delete_and_restore_experiment(client, exp_name):
    exp_id = client.create_experiment(exp_name)
    run = client.create_run(exp_id)
    mlflow.delete_experiment(exp_id)

    deleted = client.get_experiment(exp_id)
    assert deleted.lifecycle_stage == "deleted"
    by_name = client.get_experiment_by_name(exp_name)
    assert by_name is not None and by_name.lifecycle_stage == "deleted"
    # Deleting an experiment deletes its runs.
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(MlflowException, match="(?i)deleted"):
        mlflow.set_experiment(exp_name)
    with pytest.raises(MlflowException, match="(?i)deleted"):
        mlflow.set_experiment(experiment_id=exp_id)
    # A deleted experiment still owns its name.
    with pytest.raises(MlflowException) as e:
        client.create_experiment(exp_name)
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"

    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"
    assert mlflow.set_experiment(exp_name).experiment_id == exp_id


def test_create_run_in_deleted_experiment_fails(client, exp_name):
    exp_id = client.create_experiment(exp_name)
    client.delete_experiment(exp_id)
    with pytest.raises(MlflowException) as e:
        client.create_run(exp_id)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_experiment_tags_set_and_delete(client, exp_name):
    exp = mlflow.set_experiment(exp_name)
    mlflow.set_experiment_tag("a", "1")
    mlflow.set_experiment_tags({"b": "2", "c": "3"})
    client.set_experiment_tag(exp.experiment_id, "a", "overwritten")
    assert client.get_experiment(exp.experiment_id).tags == {"a": "overwritten", "b": "2", "c": "3"}
    client.delete_experiment_tag(exp.experiment_id, "b")
    assert client.get_experiment(exp.experiment_id).tags == {"a": "overwritten", "c": "3"}


def test_search_experiments_filters_order_and_paging(client):
    prefix = f"se-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}-{c}" for c in "dbeac"]
    ids = {}
    for i, name in enumerate(names):
        ids[name] = client.create_experiment(name, tags={"team": "red" if i % 2 == 0 else "blue", "idx": str(i)})
        time.sleep(0.005)  # distinct creation_time, so the default order is unambiguous

    found = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["name ASC"])
    assert [e.name for e in found] == sorted(names)
    found_desc = mlflow.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"])
    assert [e.name for e in found_desc] == sorted(names, reverse=True)

    reds = client.search_experiments(
        filter_string=f"name LIKE '{prefix}-%' AND tags.team = 'red'", order_by=["name"]
    )
    assert [e.name for e in reds] == sorted(n for i, n in enumerate(names) if i % 2 == 0)

    exact = client.search_experiments(filter_string=f"name = '{prefix}-a'")
    assert [e.experiment_id for e in exact] == [ids[f"{prefix}-a"]]

    # ILIKE is case-insensitive, LIKE is not.
    assert client.search_experiments(filter_string=f"name LIKE '{prefix.upper()}-%'") == []
    assert len(client.search_experiments(filter_string=f"name ILIKE '{prefix.upper()}-%'")) == 5

    # Paging with max_results: two per page, all names, none twice, in order.
    seen = []
    token = None
    pages = 0
    while True:
        page = client.search_experiments(
            filter_string=f"name LIKE '{prefix}-%'", order_by=["name ASC"], max_results=2, page_token=token
        )
        pages += 1
        assert len(page) <= 2
        seen.extend(e.name for e in page)
        token = page.token
        if not token:
            break
        assert pages < 10
    assert seen == sorted(names)
    assert pages == 3

    # Default order: newest first.
    default_order = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'")
    assert [e.name for e in default_order] == list(reversed(names))


def test_search_experiments_view_type(client):
    prefix = f"sv-{uuid.uuid4().hex[:8]}"
    keep = client.create_experiment(f"{prefix}-keep")
    gone = client.create_experiment(f"{prefix}-gone")
    client.delete_experiment(gone)
    flt = f"name LIKE '{prefix}-%'"
    active = {e.experiment_id for e in client.search_experiments(filter_string=flt)}
    deleted = {e.experiment_id for e in client.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=flt)}
    every = {e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL, filter_string=flt)}
    assert active == {keep}
    assert deleted == {gone}
    assert every == {keep, gone}


def test_search_experiments_bad_filter_is_invalid_parameter(client, http_log):
    with pytest.raises(MlflowException) as e, http_log.call() as call:
        client.search_experiments(filter_string="name LIKE")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert call.status == 400


@pytest.mark.parametrize(
    "suffix", ["a+b c", "x/y%20z", "ünï €", "q'uote\"", "amp&=?#frag", "tab\tand  spaces"],
    ids=["plus", "slash-percent", "unicode", "quotes", "query-chars", "whitespace"],
)
def test_experiment_names_with_url_special_characters(client, exp_name, suffix):
    name = f"{exp_name} {suffix}"
    exp_id = client.create_experiment(name)
    got = client.get_experiment_by_name(name)  # GET with the name in the query string
    assert got is not None and got.experiment_id == exp_id and got.name == name
    assert mlflow.set_experiment(name).experiment_id == exp_id
    assert client.get_experiment(exp_id).name == name
    found = client.search_experiments(filter_string=f"name LIKE '{exp_name}%'")
    assert [e.name for e in found] == [name]


def test_last_update_time_moves_on_rename_delete_restore(client, exp_name):
    exp_id = client.create_experiment(exp_name)
    created = client.get_experiment(exp_id)
    assert created.last_update_time >= created.creation_time
    stamps = [created.last_update_time]
    for change in (
        lambda: client.rename_experiment(exp_id, exp_name + "-r"),
        lambda: client.delete_experiment(exp_id),
        lambda: client.restore_experiment(exp_id),
    ):
        time.sleep(0.01)
        change()
        stamps.append(client.get_experiment(exp_id).last_update_time)
    assert stamps == sorted(stamps) and len(set(stamps)) == 4
    assert client.get_experiment(exp_id).creation_time == created.creation_time


def test_search_experiments_order_by_last_update_time(client):
    prefix = f"lu-{uuid.uuid4().hex[:8]}"
    ids = []
    for i in range(3):
        ids.append(client.create_experiment(f"{prefix}-{i}"))
        time.sleep(0.005)
    client.rename_experiment(ids[0], f"{prefix}-0-renamed")  # now the most recently updated
    got = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["last_update_time DESC"])
    assert [e.experiment_id for e in got] == [ids[0], ids[2], ids[1]]
    got = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["experiment_id ASC"])
    assert [e.experiment_id for e in got] == sorted(ids, key=int)
    created = ids[0]
    ct = client.get_experiment(created).creation_time
    got = client.search_experiments(filter_string=f"name LIKE '{prefix}-%' AND creation_time >= {ct}")
    assert set(e.experiment_id for e in got) == set(ids)
