"""MLflow 3 tracing with the real client: export (spans one by one, StartTraceV3, and a traces.json
upload when StartTraceV3 comes first), reading, search, tags and deletion. The client's async export queue is flushed before each read."""

import asyncio
import pathlib
import time

import mlflow
import pytest
import requests
from mlflow.entities import SpanEvent, SpanType

mlflow.tracing.enable()


def _flush():
    mlflow.flush_trace_async_logging()


@mlflow.trace
def add(a, b):
    return a + b


@mlflow.trace(name="async_double", span_type=SpanType.LLM)
async def async_double(x):
    await asyncio.sleep(0)
    return 2 * x


@mlflow.trace
def countdown(n):
    for i in range(n, 0, -1):
        yield i


def test_trace_decorator_sync_async_and_generator(client, experiment_id):
    mlflow.set_experiment(experiment_id=experiment_id)
    assert add(2, 3) == 5
    sync_id = mlflow.get_last_active_trace_id()
    assert asyncio.run(async_double(21)) == 42
    async_id = mlflow.get_last_active_trace_id()
    assert list(countdown(3)) == [3, 2, 1]
    gen_id = mlflow.get_last_active_trace_id()
    _flush()

    sync = client.get_trace(sync_id)
    assert sync.info.experiment_id == experiment_id
    assert sync.info.state.value == "OK"
    assert sync.info.tags["mlflow.artifactLocation"].endswith(f"/{experiment_id}/traces/{sync_id}/artifacts")
    [span] = sync.data.spans
    assert span.name == "add"
    assert span.inputs == {"a": 2, "b": 3}
    assert span.outputs == 5
    assert sync.info.execution_duration is not None and sync.info.execution_duration >= 0

    [aspan] = client.get_trace(async_id).data.spans
    assert (aspan.name, aspan.span_type, aspan.outputs) == ("async_double", SpanType.LLM, 42)

    [gspan] = client.get_trace(gen_id).data.spans
    assert gspan.name == "countdown"
    assert gspan.outputs == [3, 2, 1]


def test_nested_spans_attributes_events_and_exception(client, experiment_id):
    mlflow.set_experiment(experiment_id=experiment_id)
    with pytest.raises(ValueError):
        with mlflow.start_span("outer", span_type=SpanType.CHAIN) as outer:
            outer.set_inputs({"question": "why?"})
            outer.set_attributes({"model": "m1", "temperature": 0.5})
            outer.add_event(SpanEvent("checkpoint", attributes={"step": 1}))
            with mlflow.start_span("inner") as inner:
                inner.set_attribute("k", "v")
                raise ValueError("boom")
    trace_id = mlflow.get_last_active_trace_id()
    _flush()

    trace = client.get_trace(trace_id)
    assert trace.info.state.value == "ERROR"
    spans = {s.name: s for s in trace.data.spans}
    assert set(spans) == {"outer", "inner"}
    outer, inner = spans["outer"], spans["inner"]
    assert inner.parent_id == outer.span_id
    assert outer.inputs == {"question": "why?"}
    assert outer.get_attribute("model") == "m1"
    assert outer.get_attribute("temperature") == 0.5
    assert [e.name for e in outer.events if e.name == "checkpoint"] == ["checkpoint"]
    assert inner.get_attribute("k") == "v"
    assert inner.status.status_code.value == "ERROR"
    exception = [e for e in inner.events if e.name == "exception"]
    assert exception and "boom" in exception[0].attributes["exception.message"]


def test_update_current_trace_and_run_link(client, experiment_id):
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_run() as run:

        @mlflow.trace
        def answer(q):
            mlflow.update_current_trace(tags={"team": "search", "priority": "high"}, metadata={"customer": "c-42"})
            return q.upper()

        answer("hello")
        trace_id = mlflow.get_last_active_trace_id()
    _flush()

    info = client.get_trace(trace_id).info
    assert info.tags["team"] == "search"
    assert info.tags["priority"] == "high"
    assert info.trace_metadata["customer"] == "c-42"
    assert info.trace_metadata["mlflow.sourceRun"] == run.info.run_id
    # The run's traces, as the client asks for them (attribute.run_id).
    listed = mlflow.search_traces(run_id=run.info.run_id, return_type="list")
    assert [t.info.trace_id for t in listed] == [trace_id]
    assert listed[0].data.spans[0].outputs == "HELLO"


def _make_traces(experiment_id, n):
    mlflow.set_experiment(experiment_id=experiment_id)
    ids = []
    for i in range(n):
        with mlflow.start_span(f"step-{i}") as span:
            span.set_inputs({"i": i})
            mlflow.update_current_trace(tags={"parity": "even" if i % 2 == 0 else "odd"}, metadata={"index": str(i)})
            span.set_outputs(i * i)
        ids.append(mlflow.get_last_active_trace_id())
        time.sleep(0.002)  # distinct request times, so the default order (newest first) is known
    _flush()
    return ids


def test_search_traces_filters_order_and_paging(client, experiment_id):
    ids = _make_traces(experiment_id, 5)

    df = mlflow.search_traces(locations=[experiment_id])
    assert list(df["trace_id"]) == list(reversed(ids))
    assert {"request", "response", "spans", "tags", "trace_metadata", "state"} <= set(df.columns)

    even = mlflow.search_traces(locations=[experiment_id], filter_string="tags.parity = 'even'", return_type="list")
    assert sorted(t.info.trace_id for t in even) == sorted(ids[0::2])
    assert all(t.data.spans for t in even)

    third = mlflow.search_traces(locations=[experiment_id], filter_string="metadata.index = '3'", return_type="list")
    assert [t.info.trace_id for t in third] == [ids[3]]

    ok = mlflow.search_traces(locations=[experiment_id], filter_string="trace.status = 'OK'", return_type="list")
    assert len(ok) == 5
    assert mlflow.search_traces(locations=[experiment_id], filter_string="trace.status = 'ERROR'", return_type="list") == []

    first = client.get_trace(ids[0]).info.request_time
    later = mlflow.search_traces(locations=[experiment_id], filter_string=f"trace.timestamp_ms > {first}", return_type="list")
    assert ids[0] not in {t.info.trace_id for t in later} and len(later) == 4

    oldest_first = mlflow.search_traces(locations=[experiment_id], order_by=["timestamp_ms ASC"], return_type="list")
    assert [t.info.trace_id for t in oldest_first] == ids

    page1 = client.search_traces(locations=[experiment_id], max_results=2, order_by=["timestamp_ms ASC"])
    assert [t.info.trace_id for t in page1] == ids[:2] and page1.token
    page2 = client.search_traces(locations=[experiment_id], max_results=2, order_by=["timestamp_ms ASC"], page_token=page1.token)
    assert [t.info.trace_id for t in page2] == ids[2:4]
    page3 = client.search_traces(locations=[experiment_id], max_results=2, order_by=["timestamp_ms ASC"], page_token=page2.token)
    assert [t.info.trace_id for t in page3] == ids[4:] and not page3.token


def test_search_traces_bad_filter_is_400(experiment_id):
    with pytest.raises(mlflow.MlflowException) as err:
        mlflow.search_traces(locations=[experiment_id], filter_string="nosuch.thing = 'x'")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_trace_tags_set_and_delete(client, experiment_id):
    [trace_id] = _make_traces(experiment_id, 1)
    client.set_trace_tag(trace_id, "reviewed", "yes")
    assert client.get_trace(trace_id).info.tags["reviewed"] == "yes"
    client.delete_trace_tag(trace_id, "reviewed")
    assert "reviewed" not in client.get_trace(trace_id).info.tags
    with pytest.raises(mlflow.MlflowException) as err:
        client.set_trace_tag("tr-" + "0" * 32, "k", "v")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_delete_traces_by_id_and_time_frees_blobs(client, experiment_id, cairn_server):
    ids = _make_traces(experiment_id, 4)
    folder = pathlib.Path(cairn_server.workdir) / "artifacts" / experiment_id / "traces"
    # The compat server keeps artifacts in a folder: the spans are there, and deleting frees them.
    assert (folder / ids[0] / "artifacts" / "traces.json").is_file()

    assert client.delete_traces(experiment_id, trace_ids=[ids[0]]) == 1
    with pytest.raises(mlflow.MlflowException) as err:
        client.get_trace(ids[0])
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert not (folder / ids[0]).exists()

    # Oldest first, at most max_traces of those at or before the time.
    cutoff = client.get_trace(ids[3]).info.request_time
    assert client.delete_traces(experiment_id, max_timestamp_millis=cutoff, max_traces=2) == 2
    left = mlflow.search_traces(locations=[experiment_id], return_type="list")
    assert [t.info.trace_id for t in left] == [ids[3]]
    assert sorted(p.name for p in folder.iterdir()) == [ids[3]]


def test_client_logs_spans_one_by_one_and_they_are_stored_once(client, experiment_id):
    # The client's default export sends each span as it ends (log_spans: POST /v1/traces) and the
    # trace's info (StartTraceV3) at the end; the spans are merged by id into one copy.
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_span("agent") as root:
        root.set_inputs({"question": "q"})
        for i in range(3):
            with mlflow.start_span(f"tool-{i}") as tool:
                tool.set_outputs({"i": i})
        root.set_outputs("answer")
    trace_id = mlflow.get_last_active_trace_id()
    _flush()

    trace = client.get_trace(trace_id)
    # Only logged spans set this (the server's tag, as MLflow's server sets it for them).
    assert trace.info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert trace.info.tags["mlflow.traceName"] == "agent"
    assert trace.info.state.value == "OK"
    assert trace.info.request_preview == '{"question": "q"}'
    names = sorted(s.name for s in trace.data.spans)
    assert names == ["agent", "tool-0", "tool-1", "tool-2"]
    assert len({s.span_id for s in trace.data.spans}) == 4
    tools = {s.name: s for s in trace.data.spans}
    assert tools["tool-2"].outputs == {"i": 2}
    assert tools["tool-1"].parent_id == tools["agent"].span_id
    # search_traces reads the same spans (through the server's batch read, for such traces).
    [found] = mlflow.search_traces(locations=[experiment_id], filter_string="tags.`mlflow.traceName` = 'agent'", return_type="list")
    assert sorted(s.name for s in found.data.spans) == names


# A trace over 1 MiB is uploaded whole by its owner (StartTraceV3 asks it to): the upload must keep
# the spans the other process logged.
@pytest.mark.parametrize("output", ["ok", "o" * (2 * 1024 * 1024)], ids=["small", "2MiB"])
def test_distributed_trace_keeps_the_remote_process_spans(client, experiment_id, server_url, output):
    # A span started in another process from this one's traceparent header: that process only logs
    # its spans one by one (it does not own the trace), and they join this process's trace.
    import json
    import subprocess
    import sys

    from mlflow.tracing import get_tracing_context_headers_for_http_request

    remote = """
import json, os, mlflow
from mlflow.tracing import set_tracing_context_from_http_request_headers
mlflow.tracing.enable()
mlflow.set_experiment(experiment_id=os.environ["EXP"])
with set_tracing_context_from_http_request_headers(json.loads(os.environ["HEADERS"])):
    with mlflow.start_span("remote-handler") as span:
        span.set_inputs({"from": "client"})
        span.set_outputs("handled")
    # Inside the context: the 3.18 client forgets the remote trace when it exits, and its batch
    # span processor then drops that trace's spans still queued (its exporter finds no trace).
    mlflow.flush_trace_async_logging()
"""
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_span("client-root") as root:
        headers = get_tracing_context_headers_for_http_request()
        env = {**__import__("os").environ, "MLFLOW_TRACKING_URI": server_url, "EXP": experiment_id, "HEADERS": json.dumps(headers)}
        done = subprocess.run([sys.executable, "-c", remote], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        root.set_outputs(output)
    trace_id = mlflow.get_last_active_trace_id()
    _flush()

    trace = client.get_trace(trace_id)
    spans = {s.name: s for s in trace.data.spans}
    assert set(spans) == {"client-root", "remote-handler"}
    assert spans["remote-handler"].parent_id == spans["client-root"].span_id
    assert spans["remote-handler"].inputs == {"from": "client"}
    assert spans["remote-handler"].outputs == "handled"
    assert trace.info.tags["mlflow.traceName"] == "client-root"
    assert trace.info.state.value == "OK"


def test_opentelemetry_sdk_exporter_sends_to_v1_traces(server_url, client, experiment_id):
    # A plain OpenTelemetry SDK (not mlflow's) with the OTLP/HTTP protobuf exporter, as any
    # instrumented service would send; the trace is then read with the mlflow client.
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import Status, StatusCode

    # Two exporters, plain and gzipped: every span arrives twice, and the merge by span id keeps one.
    provider = TracerProvider(resource=Resource.create({"service.name": "otel-compat"}))
    for compression in (Compression.NoCompression, Compression.Gzip):
        exporter = OTLPSpanExporter(endpoint=f"{server_url}/v1/traces", headers={"x-mlflow-experiment-id": experiment_id}, compression=compression)
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("compat")
    with tracer.start_as_current_span("otel-root") as root:
        root.set_attribute("user", "ada")
        with tracer.start_as_current_span("otel-child") as child:
            child.set_attribute("n", 3)
            child.add_event("checkpoint", {"step": 1})
            child.set_status(Status(StatusCode.ERROR, "bad"))
    provider.shutdown()
    trace_id = "tr-" + format(root.get_span_context().trace_id, "032x")

    trace = client.get_trace(trace_id)
    assert trace.info.state == "OK"
    assert trace.info.tags["mlflow.traceName"] == "otel-root"
    # The resource's attributes are trace tags, as MLflow's log_spans writes them (not the SDK's own).
    assert trace.info.tags["service.name"] == "otel-compat"
    assert not any(k.startswith("telemetry.sdk.") for k in trace.info.tags)
    assert trace.info.experiment_id == experiment_id
    spans = {s.name: s for s in trace.data.spans}
    assert set(spans) == {"otel-root", "otel-child"}
    assert spans["otel-root"].attributes["user"] == "ada"
    assert spans["otel-child"].parent_id == spans["otel-root"].span_id
    assert spans["otel-child"].attributes["n"] == 3
    assert spans["otel-child"].status.status_code == "ERROR"
    assert [e.name for e in spans["otel-child"].events] == ["checkpoint"]
    found = mlflow.search_traces(locations=[experiment_id], filter_string="trace.name = 'otel-root'", return_type="list")
    assert [t.info.trace_id for t in found] == [trace_id]


def test_opentelemetry_instrumentation_attributes_read_as_mlflow_spans(server_url, client, experiment_id):
    # Spans as OpenInference and the OTel GenAI semantic conventions write them (kind, inputs as JSON
    # text, model, token counts), sent by the plain OpenTelemetry SDK: read back with the mlflow
    # client as MLflow's server stores them (span types, structured inputs, chat token usage, the
    # trace's token usage), and found by span filters and token metrics. `mlflow server` 3.18.0 gave
    # the same for the same spans but two things: it adds a cost priced with LiteLLM's table, and
    # its span rows keep the type the span was sent with (none here), so its `span.type` filter
    # misses them; Cairn's rows hold the type the span is read with.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from mlflow.entities.trace_metrics import AggregationType, MetricAggregation, MetricViewType
    from mlflow.tracking._tracking_service.utils import _get_store

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{server_url}/v1/traces", headers={"x-mlflow-experiment-id": experiment_id})))
    tracer = provider.get_tracer("instrumented")
    with tracer.start_as_current_span("agent") as root:
        root.set_attributes({"openinference.span.kind": "AGENT", "input.value": '{"question": "why?"}', "output.value": "because",
                             "session.id": "s-42", "user.id": "ada", "mlflow.traceTag.env": "prod"})
        with tracer.start_as_current_span("ChatOpenAI") as llm:
            llm.set_attributes({"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o", "llm.provider": "openai", "input.value": "hello",
                                "llm.token_count.prompt": 12, "llm.token_count.completion": 3, "llm.token_count.total": 15})
        with tracer.start_as_current_span("chat gpt-4o-mini") as chat:
            chat.set_attributes({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.provider.name": "openai",
                                 "gen_ai.usage.input_tokens": 7, "gen_ai.usage.output_tokens": 2, "gen_ai.input.messages": '[{"role": "user", "content": "x"}]'})
        with tracer.start_as_current_span("lookup") as tool:
            tool.set_attributes({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.call.arguments": '{"city": "Oslo"}'})
    provider.shutdown()
    trace_id = "tr-" + format(root.get_span_context().trace_id, "032x")

    trace = client.get_trace(trace_id)
    spans = {s.name: s for s in trace.data.spans}
    assert {n: s.span_type for n, s in spans.items()} == {"agent": "AGENT", "ChatOpenAI": "LLM", "chat gpt-4o-mini": "CHAT_MODEL", "lookup": "TOOL"}
    assert (spans["agent"].inputs, spans["agent"].outputs) == ({"question": "why?"}, "because")
    assert spans["ChatOpenAI"].attributes["mlflow.chat.tokenUsage"] == {"input_tokens": 12, "output_tokens": 3, "total_tokens": 15}
    assert (spans["ChatOpenAI"].attributes["mlflow.llm.model"], spans["ChatOpenAI"].attributes["mlflow.llm.provider"]) == ("gpt-4o", "openai")
    assert spans["chat gpt-4o-mini"].inputs == [{"role": "user", "content": "x"}]
    assert spans["chat gpt-4o-mini"].attributes["mlflow.chat.tokenUsage"] == {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}
    assert spans["lookup"].inputs == {"city": "Oslo"}
    assert trace.info.token_usage == {"input_tokens": 19, "output_tokens": 5, "total_tokens": 24}
    assert (trace.info.trace_metadata["mlflow.trace.session"], trace.info.trace_metadata["mlflow.trace.user"]) == ("s-42", "ada")
    assert trace.info.tags["env"] == "prod"

    found = mlflow.search_traces(locations=[experiment_id], filter_string="span.type = 'CHAT_MODEL' AND span.name LIKE 'chat%'", return_type="list")
    assert [t.info.trace_id for t in found] == [trace_id]
    tokens = _get_store().query_trace_metrics(experiment_ids=[experiment_id], view_type=MetricViewType.TRACES, metric_name="input_tokens",
                                              aggregations=[MetricAggregation(aggregation_type=AggregationType.SUM)])
    assert [p.values for p in tokens] == [{"SUM": 19.0}]


def test_trace_bad_input_is_refused_in_mlflow_shape(server_url, experiment_id):
    base = f"{server_url}/api/3.0/mlflow/traces"
    info = {
        "trace_id": "tr-" + "a" * 32,
        "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "999999999"}},
        "request_time": "2026-01-01T00:00:00Z",
        "state": "OK",
    }
    missing = requests.post(base, json={"trace": {"trace_info": info}})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"

    bad_time = {**info, "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}, "request_time": "yesterday"}
    resp = requests.post(base, json={"trace": {"trace_info": bad_time}})
    assert resp.status_code == 400 and resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"

    bad_id = {**bad_time, "request_time": "2026-01-01T00:00:00Z", "trace_id": "../../etc"}
    resp = requests.post(base, json={"trace": {"trace_info": bad_id}})
    assert resp.status_code == 400
    # Nothing partial was stored.
    found = requests.post(f"{base}/search", json={"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}]})
    assert found.status_code == 200 and found.json().get("traces", []) == []

    unknown = requests.get(f"{base}/tr-{'b' * 32}")
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
