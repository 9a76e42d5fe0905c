"""Traces read whole from the tracking server (GetTrace `traces/get`, BatchGetTraces `traces/batchGet`,
BatchGetTraceInfos `traces/batchGetInfos`) and LinkTracesToRun, with the real 3.18 client's own
store calls: the spans come back from the traces.json the client uploaded, in OpenTelemetry protos."""

import mlflow
import pytest
import requests
from mlflow.entities import SpanEvent, SpanType
from mlflow.exceptions import MlflowException
from mlflow.tracking._tracking_service.utils import _get_store

mlflow.tracing.enable()


def _traced(experiment_id, question):
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_span("agent", span_type=SpanType.AGENT) as root:
        root.set_inputs({"question": question})
        root.set_attributes({"model": "m1", "temperature": 0.5, "tools": ["search", "calc"]})
        root.add_event(SpanEvent("checkpoint", attributes={"step": 1}))
        with mlflow.start_span("lookup", span_type=SpanType.RETRIEVER) as child:
            child.set_inputs({"q": question})
            child.set_outputs([{"doc": "d1", "score": 0.9}])
        root.set_outputs({"answer": 42})
    trace_id = mlflow.get_last_active_trace_id()
    mlflow.flush_trace_async_logging()
    return trace_id


def test_get_trace_from_the_store_has_the_spans(experiment_id):
    trace_id = _traced(experiment_id, "why?")
    store = _get_store()
    trace = store.get_trace(trace_id)
    assert trace.info.trace_id == trace_id
    assert trace.info.experiment_id == experiment_id
    spans = {s.name: s for s in trace.data.spans}
    assert set(spans) == {"agent", "lookup"}
    agent, lookup = spans["agent"], spans["lookup"]
    assert agent.parent_id is None and lookup.parent_id == agent.span_id
    assert agent.span_type == SpanType.AGENT
    assert agent.inputs == {"question": "why?"}
    assert agent.outputs == {"answer": 42}
    assert agent.attributes["temperature"] == 0.5
    assert agent.attributes["tools"] == ["search", "calc"]
    assert [(e.name, e.attributes) for e in agent.events] == [("checkpoint", {"step": 1})]
    assert lookup.outputs == [{"doc": "d1", "score": 0.9}]
    assert agent.start_time_ns <= lookup.start_time_ns <= lookup.end_time_ns <= agent.end_time_ns
    assert agent.status.status_code.value == "OK"
    # The same spans as the ones the client downloads from traces.json itself.
    downloaded = mlflow.MlflowClient().get_trace(trace_id)
    def shape(t):
        return [(s.span_id, s.parent_id, s.name, s.start_time_ns, s.end_time_ns, s.attributes, [(e.name, e.timestamp, e.attributes) for e in s.events]) for s in t.data.spans]

    assert shape(downloaded) == shape(trace)


def test_get_trace_unknown_id_is_404():
    with pytest.raises(MlflowException) as e:
        _get_store().get_trace("tr-" + "0" * 31 + "1")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_batch_get_traces_and_infos(experiment_id):
    ids = [_traced(experiment_id, f"q{i}") for i in range(3)]
    store = _get_store()
    missing = "tr-" + "f" * 32
    traces = store.batch_get_traces([*ids, missing])
    assert [t.info.trace_id for t in traces] == ids
    assert all(len(t.data.spans) == 2 for t in traces)
    assert traces[1].data.spans[0].inputs == {"question": "q1"}
    infos = store.batch_get_trace_infos([ids[2], missing, ids[0]])
    assert [i.trace_id for i in infos] == [ids[2], ids[0]]
    # Scoped to experiments: another experiment's ids give nothing.
    other = mlflow.MlflowClient().create_experiment(f"other-{experiment_id}")
    assert store.batch_get_traces(ids, experiment_ids=[other]) == []
    assert len(store.batch_get_traces(ids, experiment_ids=[experiment_id])) == 3
    # The tracing client's batch path (search with spans) reads them too.
    found = mlflow.search_traces(locations=[experiment_id], return_type="list")
    assert {t.info.trace_id for t in found} == set(ids)
    assert all(len(t.data.spans) == 2 for t in found)


def test_link_traces_to_run_makes_search_by_run_find_them(client, experiment_id):
    ids = [_traced(experiment_id, f"l{i}") for i in range(2)]
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_run() as run:
        pass
    assert mlflow.search_traces(run_id=run.info.run_id, return_type="list") == []
    client.link_traces_to_run(ids, run.info.run_id)
    client.link_traces_to_run(ids[:1], run.info.run_id)  # linking again is harmless
    found = mlflow.search_traces(locations=[experiment_id], run_id=run.info.run_id, return_type="list")
    assert sorted(t.info.trace_id for t in found) == sorted(ids)
    with pytest.raises(MlflowException) as e:
        client.link_traces_to_run(ids, "0" * 32)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_batch_bad_input_is_400(server_url):
    r = requests.get(f"{server_url}/api/3.0/mlflow/traces/batchGet", params={"trace_ids": [f"tr-{i:032x}" for i in range(101)]})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    r = requests.get(f"{server_url}/api/3.0/mlflow/traces/get", params={"trace_id": "../x"})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
