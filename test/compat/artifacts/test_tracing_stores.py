"""Tracing with the real mlflow 3.18 client on the stores the main compat run does not use.

The suite's session server runs on TEST_DATABASE_URL (Postgres in CI) with a local artifact folder;
test_tracing.py and the others prove every tracing call there. Here the same flows run against
Cairn on the embedded database (PGlite) and against Cairn on the session's database with its
artifacts in S3: the client's default export (StartTraceV3 + traces.json through the artifact
proxy), get_trace, search_traces, assessments, an OpenTelemetry SDK exporter on /v1/traces, and
deleting traces, which frees their spans in the store.
"""

from __future__ import annotations

import pathlib
import time
import uuid

import mlflow
import pytest
from mlflow.entities import AssessmentSource, AssessmentSourceType

mlflow.tracing.enable()


def _spans_stored(server, s3, experiment_id: str, trace_id: str) -> bool:
    """Whether the trace's traces.json is in the server's artifact store."""
    if server.kind == "s3":
        key = f"{server.s3_prefix}/{experiment_id}/traces/{trace_id}/artifacts/traces.json"
        listed = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=key)
        return any(o["Key"] == key for o in listed.get("Contents", []))
    return (pathlib.Path(server.workdir) / "artifacts" / experiment_id / "traces" / trace_id / "artifacts" / "traces.json").is_file()


@mlflow.trace(name="answer")
def answer(question: str) -> str:
    with mlflow.start_span("retrieve") as span:
        span.set_inputs({"q": question})
        span.set_outputs(["doc-1"])
    mlflow.update_current_trace(tags={"env": "compat"})
    return f"an answer to {question}"


def test_client_traces_read_searched_assessed_and_deleted(trace_server, s3):
    client = mlflow.MlflowClient()
    experiment_id = client.create_experiment(f"stores-{trace_server.kind}-{uuid.uuid4().hex[:8]}")
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_run() as run:
        assert answer("why") == "an answer to why"
        first = mlflow.get_last_active_trace_id()
        # Apart by more than a millisecond: two traces started in the same one tie on time, and the
        # orders below would then rest on their random ids (a CI run of 2026-12-04 met it).
        time.sleep(0.01)
        answer("how")
        second = mlflow.get_last_active_trace_id()
    mlflow.flush_trace_async_logging()

    trace = client.get_trace(first)
    assert trace.info.experiment_id == experiment_id
    assert trace.info.state.value == "OK"
    spans = {s.name: s for s in trace.data.spans}
    assert set(spans) == {"answer", "retrieve"}
    assert spans["answer"].inputs == {"question": "why"}
    assert spans["retrieve"].outputs == ["doc-1"]
    assert spans["retrieve"].parent_id == spans["answer"].span_id
    assert _spans_stored(trace_server, s3, experiment_id, first)

    found = mlflow.search_traces(locations=[experiment_id], filter_string="tags.env = 'compat'", order_by=["timestamp_ms ASC"], return_type="list")
    assert [t.info.trace_id for t in found] == [first, second]
    assert [t.info.trace_id for t in mlflow.search_traces(run_id=run.info.run_id, return_type="list")] == [second, first]

    mlflow.log_feedback(trace_id=first, name="helpful", value=True, source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="ada"))
    mlflow.log_expectation(trace_id=first, name="expected", value="an answer to why")
    assessments = {a.name: a for a in client.get_trace(first).info.assessments}
    assert assessments["helpful"].value is True
    assert assessments["expected"].value == "an answer to why"

    assert client.delete_traces(experiment_id, trace_ids=[first]) == 1
    with pytest.raises(mlflow.MlflowException) as err:
        client.get_trace(first)
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert not _spans_stored(trace_server, s3, experiment_id, first)
    assert _spans_stored(trace_server, s3, experiment_id, second)


def test_opentelemetry_sdk_exporter_stores_spans(trace_server, s3):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    client = mlflow.MlflowClient()
    experiment_id = client.create_experiment(f"otlp-{trace_server.kind}-{uuid.uuid4().hex[:8]}")
    provider = TracerProvider(resource=Resource.create({"service.name": "otel-stores"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{trace_server.url}/v1/traces", headers={"x-mlflow-experiment-id": experiment_id})))
    tracer = provider.get_tracer("compat")
    with tracer.start_as_current_span("otel-root") as root:
        with tracer.start_as_current_span("otel-child") as child:
            child.set_attribute("n", 3)
    provider.shutdown()
    trace_id = "tr-" + format(root.get_span_context().trace_id, "032x")

    trace = client.get_trace(trace_id)
    spans = {s.name: s for s in trace.data.spans}
    assert set(spans) == {"otel-root", "otel-child"}
    assert spans["otel-child"].attributes["n"] == 3
    assert _spans_stored(trace_server, s3, experiment_id, trace_id)
    assert [t.info.trace_id for t in mlflow.search_traces(locations=[experiment_id], filter_string="trace.name = 'otel-root'", return_type="list")] == [trace_id]
