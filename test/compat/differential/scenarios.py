"""Request sequences per endpoint family. `<<sfx>>` is a suffix shared by both servers for the session
(names stay comparable); other placeholders are ids saved by earlier steps of the same family."""

from __future__ import annotations

import secrets

A2 = "/api/2.0/mlflow"
AJ = "/ajax-api/2.0/mlflow"
A3 = "/api/3.0/mlflow"
AJ3 = "/ajax-api/3.0/mlflow"


def _post(id_, path, body=None, **kw):
    return {"id": id_, "method": "POST", "path": path, "json": {} if body is None else body, **kw}


def _upload(id_, params, data, content_type="text/plain", **kw):
    """The UI's upload-artifact: the arguments in the query string, the file itself as the body."""
    return {"id": id_, "method": "POST", "path": f"{AJ}/upload-artifact", "params": params, "data": data, "headers": {"Content-Type": content_type}, **kw}


def _get(id_, path, params=None, **kw):
    step = {"id": id_, "method": "GET", "path": path, **kw}
    if params is not None:
        step["params"] = params
    return step


EXPERIMENTS = [
    _post("exp.create", f"{A2}/experiments/create", {"name": "diff-exp-<<sfx>>", "tags": [{"key": "t", "value": "1"}]}, save={"exp": "experiment_id"}),
    _post("exp.create.duplicate", f"{A2}/experiments/create", {"name": "diff-exp-<<sfx>>"}),
    _post("exp.create.no-name", f"{A2}/experiments/create", {}),
    _post("exp.create.relative-location", f"{A2}/experiments/create", {"name": "diff-exp-rel-<<sfx>>", "artifact_location": "my_location"}),
    _get("exp.get", f"{A2}/experiments/get", {"experiment_id": "<<exp>>"}),
    _get("exp.get.json-body", f"{A2}/experiments/get", json={"experiment_id": "<<exp>>"}),
    _get("exp.get.missing", f"{A2}/experiments/get", {"experiment_id": "987654321"}),
    _get("exp.get.no-id", f"{A2}/experiments/get"),
    _get("exp.get-by-name", f"{A2}/experiments/get-by-name", {"experiment_name": "diff-exp-<<sfx>>"}),
    _get("exp.get-by-name.missing", f"{A2}/experiments/get-by-name", {"experiment_name": "diff-nope-<<sfx>>"}),
    _post("exp.update", f"{A2}/experiments/update", {"experiment_id": "<<exp>>", "new_name": "diff-exp2-<<sfx>>"}),
    _post("exp.set-tag", f"{A2}/experiments/set-experiment-tag", {"experiment_id": "<<exp>>", "key": "k", "value": "v"}),
    _post("exp.set-tag.no-key", f"{A2}/experiments/set-experiment-tag", {"experiment_id": "<<exp>>", "value": "v"}),
    _post("exp.search", f"{A2}/experiments/search", {"filter": "name = 'diff-exp2-<<sfx>>'", "max_results": 10}),
    _post("exp.search.bad-filter", f"{A2}/experiments/search", {"filter": "name ~ 'x'", "max_results": 10}),
    _post("exp.search.max-results", f"{A2}/experiments/search", {"max_results": 0}),
    _post("exp.delete", f"{A2}/experiments/delete", {"experiment_id": "<<exp>>"}),
    _get("exp.get.deleted", f"{A2}/experiments/get", {"experiment_id": "<<exp>>"}),
    _post("exp.restore", f"{A2}/experiments/restore", {"experiment_id": "<<exp>>"}),
    _get("exp.ajax.get", f"{AJ}/experiments/get", {"experiment_id": "<<exp>>"}),
]

RUNS = [
    _post("run.exp", f"{A2}/experiments/create", {"name": "diff-runs-<<sfx>>"}, save={"exp": "experiment_id"}),
    _post("run.create", f"{A2}/runs/create", {"experiment_id": "<<exp>>", "run_name": "r1", "start_time": 1700000000000, "tags": [{"key": "a", "value": "b"}]}, save={"run": "run.info.run_id"}),
    _post("run.create.missing-exp", f"{A2}/runs/create", {"experiment_id": "987654321"}),
    _get("run.get", f"{A2}/runs/get", {"run_id": "<<run>>"}),
    _get("run.get.json-body", f"{A2}/runs/get", json={"run_id": "<<run>>"}),
    _get("run.get.missing", f"{A2}/runs/get", {"run_id": "0123456789abcdef0123456789abcdef"}),
    _get("run.get.no-id", f"{A2}/runs/get"),
    _post("run.log-param", f"{A2}/runs/log-parameter", {"run_id": "<<run>>", "key": "p", "value": "1"}),
    _post("run.log-param.same", f"{A2}/runs/log-parameter", {"run_id": "<<run>>", "key": "p", "value": "1"}),
    _post("run.log-param.change", f"{A2}/runs/log-parameter", {"run_id": "<<run>>", "key": "p", "value": "2"}),
    _post("run.log-param.empty", f"{A2}/runs/log-parameter", {}),
    _post("run.log-param.no-value", f"{A2}/runs/log-parameter", {"run_id": "<<run>>", "key": "q"}),
    _post("run.set-tag", f"{A2}/runs/set-tag", {"run_id": "<<run>>", "key": "t", "value": "v"}),
    _post("run.set-tag.empty", f"{A2}/runs/set-tag", {}),
    # A number where a string belongs: quoted back as the client wrote it (9.0, 1e+20), typed float.
    _post("run.log-param.float-value", f"{A2}/runs/log-parameter", {"run_id": "<<run>>", "key": "pf", "value": 9.0}),
    _post("run.set-tag.float-value", f"{A2}/runs/set-tag", {"run_id": "<<run>>", "key": "tf", "value": 1e20}),
    _post("run.log-metric", f"{A2}/runs/log-metric", {"run_id": "<<run>>", "key": "m", "value": 9.0, "timestamp": 1700000000001, "step": 0}),
    _post("run.log-metric.2", f"{A2}/runs/log-metric", {"run_id": "<<run>>", "key": "m", "value": 7.5, "timestamp": 1700000000002, "step": 1}),
    _post("run.log-metric.no-timestamp", f"{A2}/runs/log-metric", {"run_id": "<<run>>", "key": "m", "value": 1.0}),
    _post("run.log-metric.bad-value", f"{A2}/runs/log-metric", {"run_id": "<<run>>", "key": "m", "value": "abc", "timestamp": 1}),
    _post("run.log-metric.empty", f"{A2}/runs/log-metric", {}),
    _post("run.log-batch", f"{A2}/runs/log-batch", {"run_id": "<<run>>", "metrics": [{"key": "b", "value": 1, "timestamp": 1700000000003, "step": 0}], "params": [{"key": "bp", "value": "x"}], "tags": [{"key": "bt", "value": "y"}]}),
    _post("run.log-batch.metric-no-timestamp", f"{A2}/runs/log-batch", {"run_id": "<<run>>", "metrics": [{"key": "b", "value": 1}]}),
    _post("run.log-batch.no-run", f"{A2}/runs/log-batch", {"metrics": []}),
    _get("run.history", f"{A2}/metrics/get-history", {"run_id": "<<run>>", "metric_key": "m"}),
    _get("run.history.missing-key", f"{A2}/metrics/get-history", {"run_id": "<<run>>", "metric_key": "none"}),
    _get("run.history-bulk-interval", f"{A2}/metrics/get-history-bulk-interval", {"run_ids": "<<run>>", "metric_key": "m", "max_results": 10}),
    _get("run.history-bulk-interval.too-many", f"{A2}/metrics/get-history-bulk-interval", {"run_ids": [f"{i:032x}" for i in range(101)], "metric_key": "m"}),
    _get("run.history-bulk-interval.none", f"{A2}/metrics/get-history-bulk-interval", {"metric_key": "m"}),
    _get("run.history-bulk.ajax", f"{AJ}/metrics/get-history-bulk", {"run_id": "<<run>>", "metric_key": "m"}),
    _get("run.history-bulk.ajax.unknown-run", f"{AJ}/metrics/get-history-bulk", {"run_id": "abc", "metric_key": "m"}),
    _get("run.history-bulk.ajax.no-run", f"{AJ}/metrics/get-history-bulk", {"metric_key": "m"}),
    _post("run.update", f"{A2}/runs/update", {"run_id": "<<run>>", "status": "FINISHED", "end_time": 1700000000100}),
    _post("run.update.bad-status", f"{A2}/runs/update", {"run_id": "<<run>>", "status": "NOPE"}),
    _post("run.search", f"{A2}/runs/search", {"experiment_ids": ["<<exp>>"], "filter": "params.p = '1'"}),
    _post("run.search.bad-filter", f"{A2}/runs/search", {"experiment_ids": ["<<exp>>"], "filter": "params.p === 1"}),
    _post("run.search.order", f"{A2}/runs/search", {"experiment_ids": ["<<exp>>"], "order_by": ["metrics.m DESC"]}),
    _post("run.delete-tag", f"{A2}/runs/delete-tag", {"run_id": "<<run>>", "key": "t"}),
    _post("run.delete-tag.missing", f"{A2}/runs/delete-tag", {"run_id": "<<run>>", "key": "nope"}),
    _post("run.delete", f"{A2}/runs/delete", {"run_id": "<<run>>"}),
    _get("run.get.deleted", f"{A2}/runs/get", {"run_id": "<<run>>"}),
    _post("run.restore", f"{A2}/runs/restore", {"run_id": "<<run>>"}),
    _get("run.artifacts.list", f"{A2}/artifacts/list", {"run_id": "<<run>>"}),
]

REGISTRY = [
    _post("reg.exp", f"{A2}/experiments/create", {"name": "diff-reg-<<sfx>>"}, save={"exp": "experiment_id"}),
    _post("reg.run", f"{A2}/runs/create", {"experiment_id": "<<exp>>", "run_name": "reg"}, save={"run": "run.info.run_id"}),
    _post("reg.rm.create", f"{A2}/registered-models/create", {"name": "diff-model-<<sfx>>", "description": "d", "tags": [{"key": "k", "value": "v"}]}),
    _post("reg.rm.create.duplicate", f"{A2}/registered-models/create", {"name": "diff-model-<<sfx>>"}),
    _post("reg.rm.create.no-name", f"{A2}/registered-models/create", {}),
    _get("reg.rm.get", f"{A2}/registered-models/get", {"name": "diff-model-<<sfx>>"}),
    _get("reg.rm.get.json-body", f"{A2}/registered-models/get", json={"name": "diff-model-<<sfx>>"}),
    _get("reg.rm.get.missing", f"{A2}/registered-models/get", {"name": "diff-nope-<<sfx>>"}),
    _post("reg.mv.create.runs-source", f"{A2}/model-versions/create", {"name": "diff-model-<<sfx>>", "source": "runs:/<<run>>/model", "run_id": "<<run>>"}),
    _post("reg.mv.create.runs-source-other-run", f"{A2}/model-versions/create", {"name": "diff-model-<<sfx>>", "source": "runs:/0123456789abcdef0123456789abcdef/model", "run_id": "<<run>>"}),
    _post("reg.mv.create.no-source", f"{A2}/model-versions/create", {"name": "diff-model-<<sfx>>"}),
    _post("reg.mv.create.missing-model", f"{A2}/model-versions/create", {"name": "diff-nope-<<sfx>>", "source": "runs:/<<run>>/model"}),
    _get("reg.mv.get", f"{A2}/model-versions/get", {"name": "diff-model-<<sfx>>", "version": "1"}),
    _get("reg.mv.get.json-body", f"{A2}/model-versions/get", json={"name": "diff-model-<<sfx>>", "version": "1"}),
    _get("reg.mv.get.missing", f"{A2}/model-versions/get", {"name": "diff-model-<<sfx>>", "version": "99"}),
    _post("reg.mv.set-tag", f"{A2}/model-versions/set-tag", {"name": "diff-model-<<sfx>>", "version": "1", "key": "k", "value": "v"}),
    _post("reg.rm.alias", f"{A2}/registered-models/alias", {"name": "diff-model-<<sfx>>", "alias": "champion", "version": "1"}),
    _get("reg.rm.alias.get", f"{A2}/registered-models/alias", {"name": "diff-model-<<sfx>>", "alias": "champion"}),
    _get("reg.mv.search", f"{A2}/model-versions/search", {"filter": "name = 'diff-model-<<sfx>>'"}),
    _get("reg.rm.search", f"{A2}/registered-models/search", {"filter": "name = 'diff-model-<<sfx>>'"}),
    _get("reg.mv.download-uri", f"{A2}/model-versions/get-download-uri", {"name": "diff-model-<<sfx>>", "version": "1"}),
    _post("reg.rm.get-latest", f"{A2}/registered-models/get-latest-versions", {"name": "diff-model-<<sfx>>"}),
    _post("reg.rm.rename", f"{A2}/registered-models/rename", {"name": "diff-model-<<sfx>>", "new_name": "diff-model2-<<sfx>>"}),
    _get("reg.rm.get.renamed", f"{A2}/registered-models/get", {"name": "diff-model2-<<sfx>>"}),
    _post("reg.mv.delete", f"{A2}/model-versions/delete", {"name": "diff-model2-<<sfx>>", "version": "1"}, method="DELETE"),
    _post("reg.rm.delete", f"{A2}/registered-models/delete", {"name": "diff-model2-<<sfx>>"}, method="DELETE"),
]

ARTIFACTS = [
    _post("art.exp", f"{A2}/experiments/create", {"name": "diff-art-<<sfx>>"}, save={"exp": "experiment_id"}),
    _post("art.run", f"{A2}/runs/create", {"experiment_id": "<<exp>>", "run_name": "art"}, save={"run": "run.info.run_id"}),
    {"id": "art.put.text", "method": "PUT", "path": "/api/2.0/mlflow-artifacts/artifacts/<<exp>>/<<run>>/artifacts/sub/notes.txt", "data": "hello"},
    {"id": "art.put.mlproject", "method": "PUT", "path": "/api/2.0/mlflow-artifacts/artifacts/<<exp>>/<<run>>/artifacts/MLproject", "data": "name: x"},
    {"id": "art.put.png", "method": "PUT", "path": "/api/2.0/mlflow-artifacts/artifacts/<<exp>>/<<run>>/artifacts/img.png", "data": "not really a png"},
    _get("art.list.root", f"{A2}/artifacts/list", {"run_id": "<<run>>"}),
    _get("art.list.sub", f"{A2}/artifacts/list", {"run_id": "<<run>>", "path": "sub"}),
    _get("art.proxy.list", "/api/2.0/mlflow-artifacts/artifacts", {"path": "<<exp>>/<<run>>/artifacts"}),
    _get("art.get-artifact.text", "/get-artifact", {"run_id": "<<run>>", "path": "sub/notes.txt"}, compare_text=True, compare_headers=["content-type", "content-disposition", "x-content-type-options"]),
    _get("art.get-artifact.mlproject", "/get-artifact", {"run_id": "<<run>>", "path": "MLproject"}, compare_headers=["content-type", "content-disposition"]),
    _get("art.get-artifact.png", "/get-artifact", {"run_id": "<<run>>", "path": "img.png"}, compare_headers=["content-type", "content-disposition"]),
    _get("art.get-artifact.traversal", "/get-artifact", {"run_id": "<<run>>", "path": "../x"}),
    _get("art.get-artifact.no-run", "/get-artifact", {"path": "a.txt"}),
    _get("art.proxy.download", "/api/2.0/mlflow-artifacts/artifacts/<<exp>>/<<run>>/artifacts/MLproject", compare_headers=["content-type", "content-disposition"]),
    # The UI's one-file upload: arguments in the query string, the file as the body.
    _upload("art.upload", {"run_id": "<<run>>", "path": "ui/table.json"}, '{"a": 1}', "application/octet-stream", compare_headers=["content-type"]),
    _get("art.upload.read-back", "/get-artifact", {"run_id": "<<run>>", "path": "ui/table.json"}, compare_text=True),
    _upload("art.upload.no-run", {"path": "x.txt"}, "x"),
    _upload("art.upload.no-path", {"run_id": "<<run>>"}, "x"),
    _upload("art.upload.empty", {"run_id": "<<run>>", "path": "empty.txt"}, ""),
    _upload("art.upload.unknown-run", {"run_id": "0123456789abcdef0123456789abcdef", "path": "x.txt"}, "x"),
    _upload("art.upload.traversal", {"run_id": "<<run>>", "path": "../x.txt"}, "x"),
    _post("art.rm.create", f"{A2}/registered-models/create", {"name": "diff-art-model-<<sfx>>"}),
    _post("art.mv.create", f"{A2}/model-versions/create", {"name": "diff-art-model-<<sfx>>", "source": "runs:/<<run>>/sub", "run_id": "<<run>>"}),
    _get("art.mv.get-artifact", "/model-versions/get-artifact", {"name": "diff-art-model-<<sfx>>", "version": "1", "path": "notes.txt"}, compare_text=True, compare_headers=["content-type", "content-disposition"]),
]

GRAPHQL_RUN_FIELDS = "info { runId runUuid runName experimentId status startTime endTime artifactUri lifecycleStage } data { metrics { key value step timestamp } params { key value } tags { key value } } inputs { datasetInputs { dataset { name digest } } modelInputs { modelId } } outputs { modelOutputs { modelId step } } experiment { experimentId name tags { key value } } modelVersions { name version }"

GRAPHQL = [
    _post("gql.exp", f"{A2}/experiments/create", {"name": "diff-gql-<<sfx>>"}, save={"exp": "experiment_id"}),
    _post("gql.run", f"{A2}/runs/create", {"experiment_id": "<<exp>>", "run_name": "g"}, save={"run": "run.info.run_id"}),
    _post("gql.metric", f"{A2}/runs/log-batch", {"run_id": "<<run>>", "metrics": [{"key": "m", "value": v, "timestamp": 1700000000000 + v, "step": v} for v in range(5)]}),
    _post("gql.get-experiment", "/graphql", {"query": 'query e { mlflowGetExperiment(input: {experimentId: "<<exp>>"}) { experiment { experimentId name artifactLocation lifecycleStage lastUpdateTime creationTime tags { key value } } apiError { code message } } }'}),
    _post("gql.get-run", "/graphql", {"query": "query r($id: String) { mlflowGetRun(input: {runId: $id}) { run { " + GRAPHQL_RUN_FIELDS + " } apiError { code } } }", "variables": {"id": "<<run>>"}, "operationName": "r"}),
    _post("gql.get-run.missing", "/graphql", {"query": 'query { mlflowGetRun(input: {runId: "0123456789abcdef0123456789abcdef"}) { run { info { runId } } } }'}),
    _post("gql.search-runs", "/graphql", {"query": 'query { mlflowSearchRuns(input: {experimentIds: ["<<exp>>"], maxResults: 10}) { runs { info { runId runName } data { metrics { key value } } } nextPageToken } }'}),
    _post("gql.search-runs.mutation", "/graphql", {"query": 'mutation { mlflowSearchRuns(input: {experimentIds: ["<<exp>>"], filter: "attributes.run_name = \'g\'"}) { runs { info { runName } } } }'}),
    _post("gql.bulk-interval", "/graphql", {"query": 'query { mlflowGetMetricHistoryBulkInterval(input: {runIds: ["<<run>>"], metricKey: "m", maxResults: 3}) { metrics { key value step timestamp runId } } }'}),
    _post("gql.list-artifacts", "/graphql", {"query": 'query { mlflowListArtifacts(input: {runId: "<<run>>"}) { files { path isDir fileSize } rootUri nextPageToken } }'}),
    _post("gql.search-model-versions", "/graphql", {"query": "query { mlflowSearchModelVersions(input: {filter: \"name = 'diff-nope-<<sfx>>'\"}) { modelVersions { name version } nextPageToken } }"}),
    _post("gql.search-datasets", "/graphql", {"query": 'mutation { mlflowSearchDatasets(input: {experimentIds: ["<<exp>>"]}) { datasetSummaries { experimentId name digest context } } }'}),
    _post("gql.test", "/graphql", {"query": 'query { test(inputString: "hi") { output } }'}),
    _post("gql.unknown-field", "/graphql", {"query": "query { mlflowNope { x } }"}),
    _post("gql.syntax-error", "/graphql", {"query": "query { mlflowGetRun(input: "}),
    _post("gql.too-many-aliases", "/graphql", {"query": "query { " + " ".join(f'a{i}: test(inputString: "x") {{ output }}' for i in range(11)) + " }"}),
]

UI_SUPPORT = [
    _post("ui.exp", f"{A2}/experiments/create", {"name": "diff-ui-<<sfx>>"}, save={"exp": "experiment_id"}),
    _post("ui.run", f"{A2}/runs/create", {"experiment_id": "<<exp>>", "run_name": "ui"}, save={"run": "run.info.run_id"}),
    _post("ui.log-inputs", f"{A2}/runs/log-inputs", {"run_id": "<<run>>", "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": {"name": "ds", "digest": "abc123", "source_type": "local", "source": "{}"}}]}),
    _post("ui.search-datasets", f"{AJ}/experiments/search-datasets", {"experiment_ids": ["<<exp>>"]}),
    _post("ui.search-datasets.none", f"{AJ}/experiments/search-datasets", {"experiment_ids": []}),
    _post("ui.traces.metrics", f"{AJ3}/traces/metrics", {"experiment_ids": ["<<exp>>"], "view_type": "TRACES", "metric_name": "trace_count", "aggregations": [{"aggregation_type": "COUNT"}]}),
    _post("ui.traces.metrics.latency", f"{AJ3}/traces/metrics", {"experiment_ids": ["<<exp>>"], "view_type": "TRACES", "metric_name": "latency", "aggregations": [{"aggregation_type": "AVG"}]}),
    _post("ui.traces.metrics.empty", f"{AJ3}/traces/metrics", {}),
    _post("ui.traces.search", f"{AJ3}/traces/search", {"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "<<exp>>"}}], "max_results": 10}),
    _get("ui.traces.v2", f"{AJ}/traces", {"experiment_ids": "<<exp>>"}),
    _get("ui.scorers", f"{AJ3}/scorers/list", {"experiment_id": "<<exp>>"}),
    _post("ui.issues", f"{AJ3}/issues/search", {"experiment_id": "<<exp>>"}),
    _get("ui.assistant.config", f"{AJ3}/assistant/config"),
    _get("ui.assistant.providers", f"{AJ3}/assistant/providers"),
    _get("ui.gateway-proxy", f"{AJ}/gateway-proxy"),
    _get("ui.telemetry.get", f"{AJ3}/ui-telemetry"),
    _post("ui.telemetry.post", f"{AJ3}/ui-telemetry", {"records": []}),
    _get("ui.server-info", f"{A3}/server-info"),
    _get("ui.server-info.ajax", f"{AJ3}/server-info"),
    _get("ui.health", "/health", compare_text=True),
]

# A built-in judge as the client serializes it (the server stores it; only custom code is refused).
SCORER = '{"name": "relevance", "aggregations": null, "description": null, "mlflow_version": "3.18.0", "serialization_version": 1, "builtin_scorer_class": "RelevanceToQuery", "builtin_scorer_pydantic_data": {"name": "relevance", "required_columns": ["inputs", "outputs"]}}'
CUSTOM_SCORER = '{"name": "exact", "call_source": "return True", "call_signature": "(outputs)", "original_func_name": "exact"}'
SC = {"volatile": ["scorer_id", "creation_time"]}
# Experiment ids are short ("2"): named in messages and lists, they are replaced as whole words.
SHORT = {"short_ids": ["exp", "exp2"]}

SCORERS = [
    _post("sc.exp", f"{A2}/experiments/create", {"name": "diff-scorers-<<sfx>>"}, save={"exp": "experiment_id"}),
    _post("sc.register", f"{A3}/scorers/register", {"experiment_id": "<<exp>>", "name": "relevance", "serialized_scorer": SCORER}, **SC, **SHORT),
    _post("sc.register.v2", f"{A3}/scorers/register", {"experiment_id": "<<exp>>", "name": "relevance", "serialized_scorer": SCORER}, **SC, **SHORT),
    _post("sc.register.other", f"{A3}/scorers/register", {"experiment_id": "<<exp>>", "name": "another", "serialized_scorer": SCORER}, **SC, **SHORT),
    _post("sc.register.no-name", f"{A3}/scorers/register", {"experiment_id": "<<exp>>", "serialized_scorer": SCORER}, **SHORT),
    _post("sc.register.blank-name", f"{A3}/scorers/register", {"experiment_id": "<<exp>>", "name": "  ", "serialized_scorer": SCORER}, **SHORT),
    _post("sc.register.not-json", f"{A3}/scorers/register", {"experiment_id": "<<exp>>", "name": "x", "serialized_scorer": "{nope"}, **SHORT),
    _post("sc.register.custom-code", f"{A3}/scorers/register", {"experiment_id": "<<exp>>", "name": "exact", "serialized_scorer": CUSTOM_SCORER}, **SHORT),
    _post("sc.register.missing-exp", f"{A3}/scorers/register", {"experiment_id": "987654321", "name": "x", "serialized_scorer": SCORER}, **SHORT),
    _get("sc.list", f"{A3}/scorers/list", {"experiment_id": "<<exp>>"}, **SC, **SHORT),
    _get("sc.versions", f"{A3}/scorers/versions", {"experiment_id": "<<exp>>", "name": "relevance"}, **SC, **SHORT),
    _get("sc.versions.missing", f"{A3}/scorers/versions", {"experiment_id": "<<exp>>", "name": "nope"}, **SHORT),
    _get("sc.get", f"{A3}/scorers/get", {"experiment_id": "<<exp>>", "name": "relevance"}, **SC, **SHORT),
    _get("sc.get.v1", f"{A3}/scorers/get", {"experiment_id": "<<exp>>", "name": "relevance", "version": "1"}, **SC, **SHORT),
    _get("sc.get.missing-version", f"{A3}/scorers/get", {"experiment_id": "<<exp>>", "name": "relevance", "version": "9"}, **SHORT),
    _get("sc.get.missing", f"{A3}/scorers/get", {"experiment_id": "<<exp>>", "name": "nope"}, **SHORT),
    _get("sc.online-configs", f"{A3}/scorers/online-configs", {"scorer_ids": "abc"}, **SHORT),
    {"id": "sc.online-config.no-name", "method": "PUT", "path": f"{A3}/scorers/online-config", "json": {"experiment_id": "<<exp>>", "sample_rate": 0.5}, **SHORT},
    {"id": "sc.online-config.missing", "method": "PUT", "path": f"{A3}/scorers/online-config", "json": {"experiment_id": "<<exp>>", "name": "nope", "sample_rate": 0.5}, **SHORT},
    {"id": "sc.delete.v2", "method": "DELETE", "path": f"{A3}/scorers/delete", "json": {"experiment_id": "<<exp>>", "name": "relevance", "version": 2}, **SHORT},
    {"id": "sc.delete.missing-version", "method": "DELETE", "path": f"{A3}/scorers/delete", "json": {"experiment_id": "<<exp>>", "name": "relevance", "version": 2}, **SHORT},
    _get("sc.versions.after-delete", f"{A3}/scorers/versions", {"experiment_id": "<<exp>>", "name": "relevance"}, **SC, **SHORT),
    {"id": "sc.delete.all", "method": "DELETE", "path": f"{A3}/scorers/delete", "json": {"experiment_id": "<<exp>>", "name": "another"}, **SHORT},
    {"id": "sc.delete.missing", "method": "DELETE", "path": f"{A3}/scorers/delete", "json": {"experiment_id": "<<exp>>", "name": "another"}, **SHORT},
    _get("sc.list.after-delete", f"{A3}/scorers/list", {"experiment_id": "<<exp>>"}, **SC, **SHORT),
]

RECORDS = '[{"inputs": {"question": "What is MLflow?"}, "expectations": {"answer": "A platform"}}, {"inputs": {"question": "What is Cairn?"}, "outputs": "a server", "tags": {"kind": "smoke"}, "source": {"source_type": "HUMAN", "source_data": {"source_id": "alice"}}}]'
DS = {"volatile": ["created_time", "digest", "dataset_record_id"], "json_text": ["tags", "schema", "profile", "records"], **SHORT}

DATASETS = [
    _post("ds.exp", f"{A2}/experiments/create", {"name": "diff-datasets-<<sfx>>"}, save={"exp": "experiment_id"}),
    _post("ds.exp2", f"{A2}/experiments/create", {"name": "diff-datasets2-<<sfx>>"}, save={"exp2": "experiment_id"}),
    _post("ds.create", f"{A3}/datasets/create", {"name": "qa-<<sfx>>", "experiment_ids": ["<<exp>>"], "tags": '{"team": "search"}'}, save={"ds": "dataset.dataset_id"}, **DS),
    _post("ds.create.no-name", f"{A3}/datasets/create", {"experiment_ids": ["<<exp>>"]}, **SHORT),
    _get("ds.get", f"{A3}/datasets/<<ds>>", **DS),
    _get("ds.get.missing", f"{A3}/datasets/d-00000000000000000000000000000000", **SHORT),
    _post("ds.records.upsert", f"{A3}/datasets/<<ds>>/records", {"records": RECORDS}, **SHORT),
    _post("ds.records.upsert.same-inputs", f"{A3}/datasets/<<ds>>/records", {"records": '[{"inputs": {"question": "What is MLflow?"}, "expectations": {"source": "docs"}}]'}, **SHORT),
    _post("ds.records.upsert.no-records", f"{A3}/datasets/<<ds>>/records", {}, **SHORT),
    _get("ds.records.get", f"{A3}/datasets/<<ds>>/records", {"max_results": "10"}, unordered=["records"], **DS),
    # Which record comes first is the servers' choice (same created_time, random ids): only the page's shape is compared.
    _get("ds.records.get.page", f"{A3}/datasets/<<ds>>/records", {"max_results": "1"}, volatile=["records"], **SHORT),
    _get("ds.get.after-records", f"{A3}/datasets/<<ds>>", **DS),
    _post("ds.search.exp", f"{A3}/datasets/search", {"experiment_ids": ["<<exp>>"]}, **DS),
    _post("ds.search.filter", f"{A3}/datasets/search", {"filter_string": "name = 'qa-<<sfx>>'"}, **DS),
    _post("ds.search.tag", f"{A3}/datasets/search", {"experiment_ids": ["<<exp>>"], "filter_string": "tags.team = 'nobody'"}, **DS),
    _post("ds.search.order", f"{A3}/datasets/search", {"experiment_ids": ["<<exp>>"], "order_by": ["name ASC"], "max_results": 5}, **DS),
    {"id": "ds.tags.set", "method": "PATCH", "path": f"{A3}/datasets/<<ds>>/tags", "json": {"tags": '{"owner": "alice", "n": "3"}'}, **SHORT},
    {"id": "ds.tags.delete", "method": "DELETE", "path": f"{A3}/datasets/<<ds>>/tags/owner", **SHORT},
    _get("ds.get.after-tags", f"{A3}/datasets/<<ds>>", **DS),
    _post("ds.add-experiments", f"{A3}/datasets/<<ds>>/add-experiments", {"experiment_ids": ["<<exp2>>"]}, **DS),
    _post("ds.add-experiments.missing", f"{A3}/datasets/<<ds>>/add-experiments", {"experiment_ids": ["987654321"]}, **SHORT),
    _get("ds.experiment-ids", f"{A3}/datasets/<<ds>>/experiment-ids", **SHORT),
    _post("ds.remove-experiments", f"{A3}/datasets/<<ds>>/remove-experiments", {"experiment_ids": ["<<exp>>"]}, **DS),
    _get("ds.experiment-ids.after-remove", f"{A3}/datasets/<<ds>>/experiment-ids", **SHORT),
    {"id": "ds.records.delete.none", "method": "DELETE", "path": f"{A3}/datasets/<<ds>>/records", "json": {"dataset_record_ids": ["dr-nope"]}, **SHORT},
    {"id": "ds.delete", "method": "DELETE", "path": f"{A3}/datasets/<<ds>>", **SHORT},
    _get("ds.get.deleted", f"{A3}/datasets/<<ds>>", **SHORT),
    {"id": "ds.delete.again", "method": "DELETE", "path": f"{A3}/datasets/<<ds>>", **SHORT},
]

# Trace analysis calls the client and MLflow's UI make without trace ids of their own: the filter
# correlation over an experiment (no traces: undefined NPMI, written "NaN"), prompt links to a trace
# that does not exist, and the prompt filter's grammar.
TRACE_ANALYSIS = [
    _post("ta.exp", f"{A2}/experiments/create", {"name": "diff-ta-<<sfx>>"}, save={"exp": "experiment_id"}),
    _post("ta.correlation.empty", f"{A3}/traces/calculate-filter-correlation", {"experiment_ids": ["<<exp>>"], "filter_string1": "tags.env = 'prod'", "filter_string2": "status = 'OK'"}),
    _post("ta.correlation.base", f"{A3}/traces/calculate-filter-correlation", {"experiment_ids": ["<<exp>>"], "filter_string1": "tags.env = 'prod'", "filter_string2": "status = 'OK'", "base_filter": "timestamp_ms > 0"}),
    _post("ta.correlation.no-filter", f"{A3}/traces/calculate-filter-correlation", {"experiment_ids": ["<<exp>>"], "filter_string1": "tags.env = 'prod'"}),
    _post("ta.link-prompts.missing-trace", f"{A2}/traces/link-prompts", {"trace_id": "tr-0123456789abcdef0123456789abcdef", "prompt_versions": [{"name": "p", "version": "1"}]}),
    _post("ta.search.prompt", f"{A3}/traces/search", {"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "<<exp>>"}}], "filter": "prompt = 'p/1'"}),
]

# The MLflow 2 trace API (StartTrace, EndTrace, GetTraceInfo, SearchTraces, tags, DeleteTraces under
# /api/2.0), which `mlflow server` 3.18 still serves: a trace started there is the one the v3 reads
# find. Request ids are the servers' own (saved).
TV2 = {"short_ids": ["exp"]}
TV2_V3 = TV2
V2_LOCATION = [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "<<exp>>"}}]
NO_TRACE = "0123456789abcdef0123456789abcdef"


def _patch(id_, path, body, **kw):
    return {"id": id_, "method": "PATCH", "path": path, "json": body, **kw}


TRACES_V2 = [
    _post("tv2.exp", f"{A2}/experiments/create", {"name": "diff-tv2-<<sfx>>"}, save={"exp": "experiment_id"}),
    # A client's artifact location is dropped: the server's is answered.
    _post("tv2.start", f"{A2}/traces", {"experiment_id": "<<exp>>", "timestamp_ms": 1700000000000,
          "request_metadata": [{"key": "mlflow.user", "value": "alice"}, {"key": "m", "value": "first"}],
          "tags": [{"key": "mlflow.traceName", "value": "predict"}, {"key": "env", "value": "prod"}, {"key": "mlflow.artifactLocation", "value": "s3://elsewhere"}]},
          save={"rid": "trace_info.request_id"}, **TV2),
    _post("tv2.start.second", f"{A2}/traces", {"experiment_id": "<<exp>>", "timestamp_ms": 1700000005000}, save={"rid2": "trace_info.request_id"}, **TV2),
    # No metadata: proto JSON leaves the empty map out.
    _get("tv2.v3.get-info.no-metadata", f"{A3}/traces/<<rid2>>", **TV2_V3),
    _post("tv2.start.missing-experiment", f"{A2}/traces", {"experiment_id": "987654321", "timestamp_ms": 1}),
    _post("tv2.start.no-experiment", f"{A2}/traces", {"timestamp_ms": 1}),
    _post("tv2.start.bad-timestamp", f"{A2}/traces", {"experiment_id": "<<exp>>", "timestamp_ms": "soon"}),
    _post("tv2.start.tags-not-a-list", f"{A2}/traces", {"experiment_id": "<<exp>>", "tags": {"a": "b"}}),
    _get("tv2.info", f"{A2}/traces/<<rid>>/info", **TV2),
    _get("tv2.info.ajax", f"{AJ}/traces/<<rid>>/info", **TV2),
    _get("tv2.info.unknown", f"{A2}/traces/{NO_TRACE}/info"),
    _get("tv2.v3.get-info", f"{A3}/traces/<<rid>>", **TV2_V3),
    _patch("tv2.end", f"{A2}/traces/<<rid>>", {"timestamp_ms": 1700000001500, "status": "OK",
           "request_metadata": [{"key": "m", "value": "second"}, {"key": "m2", "value": "x"}],
           "tags": [{"key": "mlflow.traceName", "value": "predict2"}, {"key": "t2", "value": "y"}, {"key": "mlflow.artifactLocation", "value": "s3://elsewhere"}]}, **TV2),
    _patch("tv2.end.unknown", f"{A2}/traces/{NO_TRACE}", {"timestamp_ms": 1, "status": "OK"}),
    _patch("tv2.end.bad-status", f"{A2}/traces/<<rid2>>", {"timestamp_ms": 1700000006000, "status": "DONE"}),
    _patch("tv2.end.no-status", f"{A2}/traces/<<rid2>>", {"timestamp_ms": 1700000006000}),
    _patch("tv2.end.before-start", f"{A2}/traces/<<rid2>>", {"timestamp_ms": 1, "status": "ERROR"}, **TV2),
    # A status by its enum number (2 = ERROR), as proto JSON allows; it also overwrites the one above.
    _patch("tv2.end.second", f"{A2}/traces/<<rid2>>", {"timestamp_ms": 1700000006250, "status": 2}, **TV2),
    _get("tv2.info.ended", f"{A2}/traces/<<rid>>/info", **TV2),
    _get("tv2.v3.get-info.ended", f"{A3}/traces/<<rid>>", **TV2_V3),
    _patch("tv2.tag.set", f"{A2}/traces/<<rid>>/tags", {"key": "reviewed", "value": "yes"}),
    _patch("tv2.tag.set.managed", f"{A2}/traces/<<rid>>/tags", {"key": "mlflow.artifactLocation", "value": "s3://x"}),
    _patch("tv2.tag.set.unknown-trace", f"{A2}/traces/{NO_TRACE}/tags", {"key": "k", "value": "v"}),
    _patch("tv2.tag.set.no-key", f"{A2}/traces/<<rid>>/tags", {"value": "v"}),
    {"id": "tv2.tag.delete", "method": "DELETE", "path": f"{A2}/traces/<<rid>>/tags", "json": {"key": "t2"}},
    {"id": "tv2.tag.delete.again", "method": "DELETE", "path": f"{A2}/traces/<<rid>>/tags", "json": {"key": "t2"}},
    {"id": "tv2.tag.delete.unknown-trace", "method": "DELETE", "path": f"{A2}/traces/{NO_TRACE}/tags", "json": {"key": "t2"}},
    _get("tv2.search", f"{A2}/traces", {"experiment_ids": "<<exp>>"}, **TV2),
    _get("tv2.search.filter", f"{A2}/traces", {"experiment_ids": "<<exp>>", "filter": "tags.reviewed = 'yes' AND status = 'OK'"}, **TV2),
    _get("tv2.search.order", f"{A2}/traces", {"experiment_ids": "<<exp>>", "order_by": "timestamp_ms ASC"}, **TV2),
    _get("tv2.search.page", f"{A2}/traces", {"experiment_ids": "<<exp>>", "max_results": "1"}, **TV2),
    _get("tv2.search.no-experiments", f"{A2}/traces"),
    _post("tv2.v3.search", f"{A3}/traces/search", {"locations": V2_LOCATION, "filter": "tags.env = 'prod'"}, **TV2_V3),
    _post("tv2.delete.both", f"{A2}/traces/delete-traces", {"experiment_id": "<<exp>>", "request_ids": ["<<rid>>"], "max_timestamp_millis": 1}),
    _post("tv2.delete.neither", f"{A2}/traces/delete-traces", {"experiment_id": "<<exp>>"}),
    _post("tv2.delete.ids-and-max", f"{A2}/traces/delete-traces", {"experiment_id": "<<exp>>", "request_ids": ["<<rid>>"], "max_traces": 1}),
    _post("tv2.delete", f"{A2}/traces/delete-traces", {"experiment_id": "<<exp>>", "request_ids": ["<<rid>>"]}),
    _post("tv2.delete.again", f"{A2}/traces/delete-traces", {"experiment_id": "<<exp>>", "request_ids": ["<<rid>>"]}),
    _get("tv2.info.deleted", f"{A2}/traces/<<rid>>/info"),
    _post("tv2.delete.by-time", f"{A2}/traces/delete-traces", {"experiment_id": "<<exp>>", "max_timestamp_millis": 1800000000000, "max_traces": 5}),
    _get("tv2.search.empty", f"{A2}/traces", {"experiment_ids": "<<exp>>"}),
]

# Assessments on a trace started through the v2 API (the simplest way to have one on both servers).
# request_time too: its two-digit parts (":13:") read as the experiment's short id when that id matches.
AS = {**TV2, "volatile": ["create_time", "request_time"]}
ASSESSMENT = {"assessment_name": "quality", "source": {"source_type": "HUMAN", "source_id": "reviewer"}, "feedback": {"value": True}}


def _delete(id_, path, **kw):
    return {"id": id_, "method": "DELETE", "path": path, **kw}


ASSESSMENTS = [
    _post("as.exp", f"{A2}/experiments/create", {"name": "diff-as-<<sfx>>"}, save={"exp": "experiment_id"}),
    _post("as.trace", f"{A2}/traces", {"experiment_id": "<<exp>>", "timestamp_ms": 1700000000000}, save={"rid": "trace_info.request_id"}, **TV2),
    _post("as.create", f"{A3}/traces/<<rid>>/assessments", {"assessment": {"trace_id": "<<rid>>", **ASSESSMENT}}, save={"aid": "assessment.assessment_id"}, **AS),
    _get("as.get", f"{A3}/traces/<<rid>>/assessments/<<aid>>", **AS),
    _get("as.get.unknown-trace", f"{A3}/traces/tr-{NO_TRACE}/assessments/<<aid>>", **TV2),
    _post("as.search.feedback", f"{A3}/traces/search", {"locations": V2_LOCATION, "filter": "feedback.quality = 'true'"}, **AS),
    _post("as.search.feedback.none", f"{A3}/traces/search", {"locations": V2_LOCATION, "filter": "feedback.quality IS NULL"}, **AS),
    _post("as.search.feedback.numeric", f"{A3}/traces/search", {"locations": V2_LOCATION, "filter": "feedback.quality > 0"}, **AS),
    _post("as.metrics.by-status", f"{A3}/traces/metrics", {"experiment_ids": ["<<exp>>"], "view_type": "TRACES", "metric_name": "trace_count", "aggregations": [{"aggregation_type": "COUNT"}], "dimensions": ["trace_status"]}),
    _post("as.metrics.assessments", f"{A3}/traces/metrics", {"experiment_ids": ["<<exp>>"], "view_type": "ASSESSMENTS", "metric_name": "assessment_count", "aggregations": [{"aggregation_type": "COUNT"}], "dimensions": ["assessment_name", "assessment_value"]}),
    _post("as.metrics.values", f"{A3}/traces/metrics", {"experiment_ids": ["<<exp>>"], "view_type": "ASSESSMENTS", "metric_name": "assessment_value", "aggregations": [{"aggregation_type": "AVG"}, {"aggregation_type": "PERCENTILE", "percentile_value": 50}]}),
    _post("as.metrics.bad-dimension", f"{A3}/traces/metrics", {"experiment_ids": ["<<exp>>"], "view_type": "TRACES", "metric_name": "latency", "aggregations": [{"aggregation_type": "AVG"}], "dimensions": ["trace_status"]}),
    _delete("as.delete", f"{A3}/traces/<<rid>>/assessments/<<aid>>", **TV2),
    # MLflow's delete succeeds for what is not there: a retried delete is no error.
    _delete("as.delete.again", f"{A3}/traces/<<rid>>/assessments/<<aid>>", **TV2),
    _delete("as.delete.unknown", f"{A3}/traces/<<rid>>/assessments/a-0123456789abcdef0123456789abcdef", **TV2),
    _get("as.get.deleted", f"{A3}/traces/<<rid>>/assessments/<<aid>>", **TV2),
]

# Spans sent by OTLP JSON (as any OpenTelemetry exporter sends them), then read back through span
# filters and the spans view of trace metrics. A trace id new to both servers for this session.
SPAN_TRACE = secrets.token_hex(16)
SP = {"short_ids": ["exp"], "volatile": ["request_time", "execution_duration"]}


def _span(span_id, name, type_, start_ms, end_ms, parent=None, error=False, attributes=()):
    t0 = 1772359200000000000
    return {
        "traceId": SPAN_TRACE, "spanId": span_id * 16, **({"parentSpanId": parent * 16} if parent else {}), "name": name,
        "startTimeUnixNano": str(t0 + start_ms * 1_000_000), "endTimeUnixNano": str(t0 + end_ms * 1_000_000),
        "attributes": [{"key": "mlflow.spanType", "value": {"stringValue": type_}}, *attributes],
        "status": {"code": 2, "message": "boom"} if error else {"code": 1},
    }


_COST = {"kvlistValue": {"values": [{"key": k, "value": {"doubleValue": v}} for k, v in (("input_cost", 0.01), ("output_cost", 0.02), ("total_cost", 0.03))]}}
OTLP_SPANS = {"resourceSpans": [{"scopeSpans": [{"spans": [
    _span("a", "agent", "AGENT", 0, 900, attributes=[{"key": "mlflow.spanInputs", "value": {"stringValue": "why héllo"}}]),
    _span("b", "search", "TOOL", 10, 250, parent="a", error=True, attributes=[{"key": "mlflow.spanInputs", "value": {"kvlistValue": {"values": [{"key": "query", "value": {"intValue": "1"}}]}}}]),
    _span("c", "llm", "LLM", 300, 800, parent="a", attributes=[
        {"key": "mlflow.llm.model", "value": {"stringValue": "gpt-4o"}}, {"key": "mlflow.llm.provider", "value": {"stringValue": "openai"}},
        {"key": "mlflow.llm.cost", "value": _COST}]),
]}]}]}
SPAN_LOCATION = [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "<<exp>>"}}]


def _span_search(id_, filter_):
    return _post(id_, f"{A3}/traces/search", {"locations": SPAN_LOCATION, "filter": filter_}, **SP)


def _span_metric(id_, metric, aggregations, dimensions=(), filters=()):
    body = {"experiment_ids": ["<<exp>>"], "view_type": "SPANS", "metric_name": metric, "aggregations": aggregations}
    return _post(id_, f"{A3}/traces/metrics", {**body, **({"dimensions": list(dimensions)} if dimensions else {}), **({"filters": list(filters)} if filters else {})})


COUNT = [{"aggregation_type": "COUNT"}]
SPANS = [
    _post("sp.exp", f"{A2}/experiments/create", {"name": "diff-sp-<<sfx>>"}, save={"exp": "experiment_id"}),
    _post("sp.otlp", "/v1/traces", OTLP_SPANS, headers={"x-mlflow-experiment-id": "<<exp>>"}),
    _span_search("sp.search.tool-error", "span.type = 'TOOL' AND span.status = 'ERROR'"),
    _span_search("sp.search.llm-error", "span.type = 'LLM' AND span.status = 'ERROR'"),
    _span_search("sp.search.name-in", "span.name IN ('llm', 'x')"),
    _span_search("sp.search.content", "span.content LIKE '%query%: 1}%'"),
    _span_search("sp.search.text", "trace.text ILIKE '%WHY%'"),
    _span_search("sp.search.attribute", "span.attributes.mlflow.llm.model LIKE '%gpt%'"),
    _span_search("sp.search.bad-key", "span.bogus = 'x'"),
    _span_metric("sp.metrics.count-by-type", "span_count", COUNT, ["span_type"]),
    _span_metric("sp.metrics.tools", "span_count", COUNT, ["span_name", "span_status"], ["span.type = 'TOOL'"]),
    _span_metric("sp.metrics.latency", "latency", [{"aggregation_type": "AVG"}, {"aggregation_type": "MAX"}], ["span_name"]),
    _span_metric("sp.metrics.cost", "total_cost", [{"aggregation_type": "SUM"}], ["span_model_name", "span_model_provider"]),
    _span_metric("sp.metrics.bad-filter", "span_count", COUNT, (), ["span.kind = 'x'"]),
]

FAMILIES = {
    "experiments": EXPERIMENTS,
    "runs": RUNS,
    "registry": REGISTRY,
    "artifacts": ARTIFACTS,
    "graphql": GRAPHQL,
    "ui-support": UI_SUPPORT,
    "scorers": SCORERS,
    "datasets": DATASETS,
    "trace-analysis": TRACE_ANALYSIS,
    "traces-v2": TRACES_V2,
    "assessments": ASSESSMENTS,
    "spans": SPANS,
}
