"""The MLflow 2 trace API with the real 3.18 client. The client still carries it: RestStore's
`deprecated_start_trace_v2` / `deprecated_end_trace_v2`, and `_create_trace_v2_fallback`, the
path its exporter takes when a server answers StartTraceV3 with ENDPOINT_NOT_FOUND. A trace
started that way must be the one the v3 reads (get_trace, search_traces) find."""

import re

import mlflow
import pytest
from mlflow.entities.trace_status import TraceStatus
from mlflow.protos.service_pb2 import GetTraceInfo, SearchTraces
from mlflow.store.tracking.rest_store import RestStore
from mlflow.utils.proto_json_utils import message_to_json

mlflow.tracing.enable()


def _store(client) -> RestStore:
    store = client._tracking_client.store
    assert isinstance(store, RestStore)
    return store


def test_deprecated_start_and_end_trace_v2_are_read_by_v3(client, experiment_id):
    store = _store(client)
    started = store.deprecated_start_trace_v2(
        experiment_id=experiment_id,
        timestamp_ms=1_700_000_000_000,
        request_metadata={"mlflow.user": "alice"},
        # The server owns the artifact location: a client's value is dropped.
        tags={"mlflow.traceName": "predict", "env": "prod", "mlflow.artifactLocation": "s3://elsewhere"},
    )
    request_id = started.request_id
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert started.status == TraceStatus.IN_PROGRESS
    assert started.execution_time_ms == 0
    assert started.request_metadata == {"mlflow.user": "alice"}
    location = started.tags.pop("mlflow.artifactLocation")
    assert location == f"mlflow-artifacts:/{experiment_id}/traces/{request_id}/artifacts"
    assert started.tags == {"mlflow.traceName": "predict", "env": "prod"}

    ended = store.deprecated_end_trace_v2(
        request_id=request_id,
        timestamp_ms=1_700_000_001_500,
        status=TraceStatus.OK,
        request_metadata={"mlflow.sourceRun": "r1"},
        tags={"stage": "done", "mlflow.artifactLocation": location},
    )
    assert ended.status == TraceStatus.OK
    assert ended.execution_time_ms == 1500
    assert ended.request_metadata == {"mlflow.user": "alice", "mlflow.sourceRun": "r1"}
    assert ended.tags == {"mlflow.traceName": "predict", "env": "prod", "stage": "done", "mlflow.artifactLocation": location}

    # The v3 reads see the same trace.
    info = store.get_trace_info(request_id)
    assert info.trace_id == request_id and info.experiment_id == experiment_id
    assert info.request_time == 1_700_000_000_000 and info.execution_duration == 1500
    assert info.state.value == "OK"
    assert info.trace_metadata == {"mlflow.user": "alice", "mlflow.sourceRun": "r1"}
    found, _ = store.search_traces(locations=[experiment_id], filter_string="tags.stage = 'done'")
    assert [t.trace_id for t in found] == [request_id]
    # search_traces(run_id=…) finds it by the metadata EndTrace added.
    found, _ = store.search_traces(locations=[experiment_id], filter_string="trace.run_id = 'r1'")
    assert [t.trace_id for t in found] == [request_id]

    # The v2 reads, as the client's fallbacks send them (SearchTraces on GET /api/2.0/mlflow/traces).
    v2 = store._call_endpoint(SearchTraces, message_to_json(SearchTraces(experiment_ids=[experiment_id])))
    assert [(t.request_id, t.execution_time_ms, t.status) for t in v2.traces] == [(request_id, 1500, TraceStatus.OK.to_proto())]
    got = store._call_endpoint(
        GetTraceInfo, message_to_json(GetTraceInfo(request_id=request_id)), endpoint=f"/api/2.0/mlflow/traces/{request_id}/info"
    )
    assert got.trace_info.request_id == request_id and got.trace_info.timestamp_ms == 1_700_000_000_000

    # Tags and deletion through the client (both on the v2 paths).
    client.set_trace_tag(request_id, "reviewed", "yes")
    client.delete_trace_tag(request_id, "env")
    assert store.get_trace_info(request_id).tags.get("reviewed") == "yes"
    assert "env" not in store.get_trace_info(request_id).tags
    assert client.delete_traces(experiment_id, trace_ids=[request_id]) == 1
    with pytest.raises(mlflow.MlflowException) as err:
        store.get_trace_info(request_id)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_deprecated_v2_calls_refuse_bad_input_with_mlflow_codes(client, experiment_id):
    store = _store(client)
    with pytest.raises(mlflow.MlflowException) as err:
        store.deprecated_start_trace_v2(experiment_id="987654321", timestamp_ms=1, request_metadata={}, tags={})
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(mlflow.MlflowException) as err:
        store.deprecated_end_trace_v2(request_id="0" * 32, timestamp_ms=1, status=TraceStatus.OK, request_metadata={}, tags={})
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    started = store.deprecated_start_trace_v2(experiment_id=experiment_id, timestamp_ms=1_000, request_metadata={}, tags={})
    # TRACE_STATUS_UNSPECIFIED is not a status a trace can end in (MLflow's server answers it with a 500).
    with pytest.raises(mlflow.MlflowException) as err:
        store.deprecated_end_trace_v2(request_id=started.request_id, timestamp_ms=2_000, status=TraceStatus.UNSPECIFIED, request_metadata={}, tags={})
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    # An end before the start is refused, and the trace stays as it was.
    with pytest.raises(mlflow.MlflowException) as err:
        store.deprecated_end_trace_v2(request_id=started.request_id, timestamp_ms=500, status=TraceStatus.OK, request_metadata={}, tags={})
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    info = store.get_trace_info(started.request_id)
    assert info.state.value == "IN_PROGRESS" and info.execution_duration is None


def test_exporter_v2_fallback_stores_a_trace_the_v3_reads_find_with_its_spans(client, experiment_id, monkeypatch):
    """The 3.18 exporter on a server without StartTraceV3 (MLflow 3.2 or older: it answers
    ENDPOINT_NOT_FOUND) sends the trace through StartTrace + EndTrace and uploads the spans to the v2
    trace's artifact location. Cairn has StartTraceV3, so the fallback is taken directly; and such a
    server's /version (below 3.4) turns off the client's span-by-span logging, so that is too."""
    from mlflow.tracing.provider import _get_trace_exporter
    from packaging.version import Version

    monkeypatch.setattr(RestStore, "start_trace", lambda self, trace_info: self._create_trace_v2_fallback(trace_info))
    monkeypatch.setattr(RestStore, "_get_server_version", staticmethod(lambda host_creds: Version("3.2.0")))
    mlflow.set_experiment(experiment_id=experiment_id)

    @mlflow.trace
    def answer(question):
        with mlflow.start_span("lookup") as span:
            span.set_attribute("hits", 3)
        return "42"

    try:
        assert answer("life?") == "42"
        mlflow.flush_trace_async_logging()
    finally:
        # The exporter remembers for the process that the server cannot log spans: the other tests
        # of this worker talk to Cairn as it is.
        exporter = _get_trace_exporter()
        if exporter is not None and hasattr(exporter, "_store_supports_log_spans"):
            exporter._store_supports_log_spans = True

    [info], _ = _store(client).search_traces(locations=[experiment_id])
    # The v2 API chose the id (32 hex digits, no "tr-").
    assert re.fullmatch(r"[0-9a-f]{32}", info.trace_id)
    assert info.state.value == "OK" and info.execution_duration is not None and info.execution_duration >= 0
    assert info.tags["mlflow.traceName"] == "answer"
    trace = client.get_trace(info.trace_id)
    assert sorted(s.name for s in trace.data.spans) == ["answer", "lookup"]
    lookup = next(s for s in trace.data.spans if s.name == "lookup")
    assert lookup.attributes["hits"] == 3
    found = mlflow.search_traces(locations=[experiment_id], filter_string="trace.name = 'answer'", return_type="list")
    assert [t.info.trace_id for t in found] == [info.trace_id]
