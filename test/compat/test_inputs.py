"""Dataset inputs: mlflow.log_input with pandas datasets, visible in get_run().inputs, searchable."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest
from mlflow.entities import Dataset, DatasetInput, InputTag


@pytest.fixture
def frames():
    train = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})
    evaluation = pd.DataFrame({"x": [5.0, 6.0], "y": [1, 0]})
    return train, evaluation


def _by_name(run):
    return {d.dataset.name: d for d in run.inputs.dataset_inputs}


def test_log_input_pandas_and_search_by_dataset(client, exp_name, frames):
    exp = mlflow.set_experiment(exp_name)
    train_df, eval_df = frames
    train = mlflow.data.from_pandas(train_df, name="iris-train", targets="y")
    evaluation = mlflow.data.from_pandas(eval_df, name="iris-eval", targets="y")

    with mlflow.start_run() as a:
        mlflow.log_input(train, context="training", tags={"owner": "me"})
        mlflow.log_input(evaluation, context="evaluation")
    with mlflow.start_run() as b:
        mlflow.log_input(train, context="testing")
    with mlflow.start_run() as c:
        mlflow.log_param("no", "datasets")

    run_a = client.get_run(a.info.run_id)
    inputs = _by_name(run_a)
    assert set(inputs) == {"iris-train", "iris-eval"}
    tr = inputs["iris-train"]
    assert tr.dataset.digest == train.digest
    assert tr.dataset.source_type == train.source._get_source_type()
    assert json.loads(tr.dataset.schema) == json.loads(train._to_mlflow_entity().schema)
    assert json.loads(tr.dataset.profile) == {"num_rows": 4, "num_elements": 8}
    assert {t.key: t.value for t in tr.tags} == {"mlflow.data.context": "training", "owner": "me"}
    assert {t.key: t.value for t in inputs["iris-eval"].tags} == {"mlflow.data.context": "evaluation"}
    run_b = client.get_run(b.info.run_id)
    assert [(d.dataset.name, d.dataset.digest) for d in run_b.inputs.dataset_inputs] == [
        ("iris-train", train.digest)
    ]
    assert client.get_run(c.info.run_id).inputs.dataset_inputs == []

    def search(flt):
        return {r.info.run_id for r in client.search_runs([exp.experiment_id], filter_string=flt)}

    A, B = a.info.run_id, b.info.run_id
    assert search("datasets.name = 'iris-train'") == {A, B}
    assert search("datasets.name = 'iris-eval'") == {A}
    assert search("datasets.context = 'training'") == {A}
    assert search("datasets.context = 'testing'") == {B}
    assert search("datasets.name = 'iris-train' AND datasets.context = 'testing'") == {B}
    assert search(f"datasets.digest = '{train.digest}'") == {A, B}
    assert search("datasets.name LIKE 'iris-%'") == {A, B}
    assert search("datasets.context IN ('evaluation', 'testing')") == {A, B}
    assert search("datasets.name = 'nope'") == set()
    df = mlflow.search_runs([exp.experiment_id], filter_string="datasets.context = 'training'")
    assert list(df["run_id"]) == [A]


def test_client_log_inputs_entities(client, experiment_id):
    run_id = client.create_run(experiment_id).info.run_id
    ds = Dataset(
        name="raw-ds",
        digest="abc123",
        source_type="http",
        source=json.dumps({"url": "https://example.com/data.csv"}),
        schema='{"mlflow_colspec": []}',
        profile='{"num_rows": 10}',
    )
    client.log_inputs(run_id, [DatasetInput(ds, tags=[InputTag("mlflow.data.context", "validation")])])
    run = client.get_run(run_id)
    assert len(run.inputs.dataset_inputs) == 1
    got = run.inputs.dataset_inputs[0]
    assert (got.dataset.name, got.dataset.digest, got.dataset.source_type) == ("raw-ds", "abc123", "http")
    assert json.loads(got.dataset.source) == {"url": "https://example.com/data.csv"}
    assert got.dataset.profile == '{"num_rows": 10}'
    assert [(t.key, t.value) for t in got.tags] == [("mlflow.data.context", "validation")]
    found = client.search_runs([experiment_id], filter_string="datasets.context = 'validation'")
    assert [r.info.run_id for r in found] == [run_id]
