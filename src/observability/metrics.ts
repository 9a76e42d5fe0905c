import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Telemetry } from './telemetry.js';

// What `--expose-prometheus` serves on /metrics. The request metrics keep the names MLflow's
// exporter (prometheus_flask_exporter with the `mlflow` prefix) gives them, so a dashboard built for
// `mlflow server` reads Cairn unchanged; Cairn adds a `route` label (the route's pattern, never the
// raw path, so the label set stays bounded) and its own `cairn_*` series for what MLflow has none of.

export interface PoolUse {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface Metrics {
  registry: Registry;
  /** The text /metrics answers; under --workers N, every worker's counts summed (main.ts sets that up). */
  scrape(): Promise<string>;
  telemetry: Telemetry;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** An error answer, by its MLflow error code (INVALID_PARAMETER_VALUE, TEMPORARILY_UNAVAILABLE, ...). */
  errorAnswered(code: string): void;
  /** A request that ended in an unhandled exception (answered 500). */
  exception(method: string, route: string): void;
  /** Read at each scrape; undefined on the embedded database, which has no pool. */
  setPoolSource(source: () => PoolUse | undefined): void;
}

export function createMetrics(version: string): Metrics {
  const registry = new Registry();
  // Process memory, CPU, event-loop lag (nodejs_eventloop_lag_*), heap and GC, as prom-client names them.
  collectDefaultMetrics({ register: registry });
  new Gauge({ name: 'mlflow_exporter_info', help: 'Server version', labelNames: ['version', 'server'], registers: [registry] }).set({ version, server: 'cairn' }, 1);

  const requests = new Counter({
    name: 'mlflow_http_request_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'mlflow_http_request_duration_seconds',
    help: 'Time to answer an HTTP request (until the handler returned its response), by method, route pattern and status class',
    labelNames: ['method', 'route', 'status_class'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30],
    registers: [registry],
  });
  const exceptions = new Counter({
    name: 'mlflow_http_request_exceptions_total',
    help: 'Requests that ended in an unhandled exception (answered 500), by method and route pattern',
    labelNames: ['method', 'route'],
    registers: [registry],
  });
  const errors = new Counter({ name: 'cairn_error_responses_total', help: 'Error answers, by MLflow error code', labelNames: ['error_code'], registers: [registry] });
  const points = new Counter({ name: 'cairn_metric_points_logged_total', help: 'Metric points written (MLflow log-metric/log-batch and W&B history)', registers: [registry] });
  const lines = new Counter({ name: 'cairn_wandb_file_stream_lines_total', help: 'Lines received on W&B file_stream (history, events, summary, output)', registers: [registry] });
  const bytes = new Counter({ name: 'cairn_artifact_bytes_total', help: 'Artifact bytes through the server: in (uploads) and out (downloads)', labelNames: ['direction'], registers: [registry] });
  const poolWait = new Histogram({
    name: 'cairn_db_pool_wait_seconds',
    help: 'Time a request waited for a database connection from the pool',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  const faults = new Counter({ name: 'cairn_db_faults_total', help: 'Database faults, by kind (unavailable, connection lost, ...)', labelNames: ['kind'], registers: [registry] });
  let poolSource: () => PoolUse | undefined = () => undefined;
  new Gauge({
    name: 'cairn_db_pool_connections',
    help: 'Database pool: connections open (total), idle, requests waiting for one, and the pool size (max)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const use = poolSource();
      if (!use) return;
      for (const state of ['total', 'idle', 'waiting', 'max'] as const) this.set({ state }, use[state]);
    },
  });
  bytes.inc({ direction: 'in' }, 0);
  bytes.inc({ direction: 'out' }, 0);

  return {
    registry,
    scrape: () => registry.metrics(),
    telemetry: {
      metricPointsLogged: (n) => points.inc(n),
      fileStreamLines: (n) => lines.inc(n),
      artifactBytes: (direction, n) => bytes.inc({ direction }, n),
      dbPoolWait: (s) => poolWait.observe(s),
      dbFault: (kind) => faults.inc({ kind }),
    },
    observeRequest(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route, status_class: `${Math.floor(status / 100)}xx` }, seconds);
    },
    errorAnswered: (code) => errors.inc({ error_code: code }),
    exception: (method, route) => exceptions.inc({ method, route }),
    setPoolSource(source) {
      poolSource = source;
    },
  };
}
