"""MLflow 3 GenAI entities with the real client: evaluation datasets (mlflow.genai.datasets) and
registered scorers (mlflow.genai.scorers)."""

import mlflow
import pandas as pd
import pytest
from mlflow.genai.datasets import create_dataset, delete_dataset, get_dataset, search_datasets
from mlflow.genai.scorers import RelevanceToQuery, delete_scorer, get_scorer, list_scorers
from mlflow.genai.scorers.registry import list_scorer_versions
from mlflow.tracking._tracking_service.utils import _get_store

mlflow.tracing.enable()


def test_dataset_create_merge_read_search_delete(experiment_id, exp_name):
    ds = create_dataset(name=f"{exp_name}-qa", experiment_id=experiment_id, tags={"team": "search", "stage": "dev"})
    assert ds.dataset_id.startswith("d-") and ds.name == f"{exp_name}-qa"
    assert ds.tags["team"] == "search" and ds.experiment_ids == [experiment_id]

    ds.merge_records([
        {"inputs": {"question": "What is MLflow?"}, "expectations": {"answer": "A platform"}},
        {"inputs": {"question": "What is Cairn?"}, "outputs": "a server", "tags": {"kind": "smoke"}},
    ])
    # Same inputs again: the record is updated (expectations merged), not added.
    ds.merge_records(pd.DataFrame([{"inputs": {"question": "What is MLflow?"}, "expectations": {"source": "docs"}}]))

    got = get_dataset(dataset_id=ds.dataset_id)
    assert got.name == ds.name and got.digest == ds.digest
    assert got.profile and '"num_records": 2' in got.profile
    assert "question" in got.schema

    df = got.to_df()
    assert len(df) == 2
    by_q = {row["inputs"]["question"]: row for _, row in df.iterrows()}
    assert by_q["What is MLflow?"]["expectations"] == {"answer": "A platform", "source": "docs"}
    assert by_q["What is Cairn?"]["outputs"] == "a server"
    records, _ = _get_store()._load_dataset_records(ds.dataset_id)
    assert {r.dataset_record_id[:3] for r in records} == {"dr-"}
    cairn = next(r for r in records if r.inputs == {"question": "What is Cairn?"})
    assert got.delete_records([cairn.dataset_record_id]) == 1
    assert len(get_dataset(dataset_id=ds.dataset_id).to_df()) == 1

    found = search_datasets(experiment_ids=[experiment_id])
    assert [d.dataset_id for d in found] == [ds.dataset_id]
    assert [d.dataset_id for d in search_datasets(filter_string=f"name = '{exp_name}-qa'")] == [ds.dataset_id]
    assert search_datasets(filter_string="tags.team = 'nobody'", experiment_ids=[experiment_id]) == []

    delete_dataset(dataset_id=ds.dataset_id)
    with pytest.raises(mlflow.MlflowException) as err:
        get_dataset(dataset_id=ds.dataset_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_dataset_from_traces(experiment_id, exp_name):
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_span("answer") as span:
        span.set_inputs({"q": "2+2"})
        span.set_outputs({"a": "4"})
    trace_id = mlflow.get_last_active_trace_id()
    mlflow.flush_trace_async_logging()
    trace = mlflow.get_trace(trace_id)

    ds = create_dataset(name=f"{exp_name}-traces", experiment_id=experiment_id)
    ds.merge_records([trace])
    [record], _ = _get_store()._load_dataset_records(ds.dataset_id)
    assert record.inputs == {"q": "2+2"}
    assert record.source_type == "TRACE" and record.source_id == trace_id


def test_dataset_tags_and_experiment_links(client, experiment_id, exp_name):
    other = client.create_experiment(f"{exp_name}-other")
    ds = create_dataset(name=f"{exp_name}-links", experiment_id=experiment_id)
    store = _get_store()
    store.set_dataset_tags(ds.dataset_id, {"owner": "alice", "n": 3})
    store.delete_dataset_tag(ds.dataset_id, "owner")
    tags = get_dataset(dataset_id=ds.dataset_id).tags
    assert tags["n"] == "3" and "owner" not in tags

    store.add_dataset_to_experiments(ds.dataset_id, [other])
    assert sorted(store.get_dataset_experiment_ids(ds.dataset_id)) == sorted([experiment_id, other])
    assert [d.dataset_id for d in search_datasets(experiment_ids=[other])] == [ds.dataset_id]
    store.remove_dataset_from_experiments(ds.dataset_id, [experiment_id])
    assert store.get_dataset_experiment_ids(ds.dataset_id) == [other]
    with pytest.raises(mlflow.MlflowException) as err:
        store.add_dataset_to_experiments(ds.dataset_id, ["987654321"])
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_scorer_register_list_get_delete(experiment_id):
    first = RelevanceToQuery().register(name="relevance", experiment_id=experiment_id)
    assert first.name == "relevance"
    RelevanceToQuery().register(name="relevance", experiment_id=experiment_id)

    listed = list_scorers(experiment_id=experiment_id)
    assert [s.name for s in listed] == ["relevance"]
    versions = list_scorer_versions(name="relevance", experiment_id=experiment_id)
    assert [v for _, v in versions] == [1, 2]
    assert isinstance(get_scorer(name="relevance", experiment_id=experiment_id, version=1), RelevanceToQuery)
    assert get_scorer(name="relevance", experiment_id=experiment_id).name == "relevance"

    delete_scorer(name="relevance", experiment_id=experiment_id, version=2)
    assert [v for _, v in list_scorer_versions(name="relevance", experiment_id=experiment_id)] == [1]
    delete_scorer(name="relevance", experiment_id=experiment_id, version="all")
    assert list_scorers(experiment_id=experiment_id) == []
    with pytest.raises(mlflow.MlflowException) as err:
        get_scorer(name="relevance", experiment_id=experiment_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_custom_scorer_code_is_refused(experiment_id):
    from mlflow.genai.scorers import scorer

    @scorer
    def exact(outputs, expectations):
        return outputs == expectations["answer"]

    with pytest.raises(mlflow.MlflowException) as err:
        exact.register(name="exact", experiment_id=experiment_id)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Custom scorer registration" in str(err.value)
