// Kept apart from metrics.ts so that code reporting counts does not load prom-client when metrics are off.

/** What the domain reports into: counts of work done. A no-op when metrics are off. */
export interface Telemetry {
  metricPointsLogged(n: number): void;
  fileStreamLines(n: number): void;
  artifactBytes(direction: 'in' | 'out', n: number): void;
  dbPoolWait(seconds: number): void;
  dbFault(kind: string): void;
}

export const noTelemetry: Telemetry = {
  metricPointsLogged: () => {},
  fileStreamLines: () => {},
  artifactBytes: () => {},
  dbPoolWait: () => {},
  dbFault: () => {},
};
