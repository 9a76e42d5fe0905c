import { createBlobStore, parseStoreUri, type BlobStore } from './blobs/index.js';
import type { Config } from './config.js';
import { sql } from 'drizzle-orm';
import { connect, rows, StartupError, type Database, type Orm } from './db/connect.js';
import { meteredBlobStore } from './blobs/metered.js';
import { classifyDbError } from './db/faults.js';
import { ensureDefaultExperiment } from './domain/experiments.js';
import { createLogger, silentLogger, type Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import { noTelemetry, type Telemetry } from './observability/telemetry.js';
import { PlanMemo } from './domain/search/plan-memo.js';

export { silentLogger, type Logger };

/** Everything a request needs, passed in rather than imported, so tests can build as many as they like. */
export interface Deps {
  config: Config;
  database: Database;
  db: Orm;
  /**
   * The model registry's tables (registered models, versions, their tags and aliases): `db` itself,
   * or with --registry-store-uri a second database's. Registry domain code reads and writes them
   * here, and runs and logged models (a version's source) through `db`.
   */
  registryDb: Orm;
  log: Logger;
  now: () => number;
  /** The --artifacts-destination: what `mlflow-artifacts:/` URIs and the artifact proxy resolve to. */
  blobs: BlobStore;
  /** The --default-artifact-root when Cairn can list it itself (direct mode on s3:// or a folder). */
  artifactRootBlobs?: BlobStore;
  /** Set when a SIGTERM starts the drain: /ready answers 503 so load balancers stop sending traffic. */
  lifecycle: { draining: boolean };
  /** The /metrics registry, with --expose-prometheus. */
  metrics?: Metrics;
  /** Counts of work done, reported by the domain (no-ops without --expose-prometheus). */
  telemetry: Telemetry;
  /** Run searches' plan choices of the last few seconds (search/plan-memo.ts); none: always counted. */
  plans?: PlanMemo;
}

export interface CreateDepsOptions {
  log?: Logger;
  /** Skip migrations (a cluster worker whose primary already applied them). */
  migrate?: boolean;
  poolSize?: number;
  /** Serve these metrics (--expose-prometheus); the server makes them, one-shot commands do not. */
  metrics?: Metrics;
}

export async function createDeps(config: Config, opts: CreateDepsOptions = {}): Promise<Deps & { close(): Promise<void> }> {
  const log = opts.log ?? createLogger({ level: config.logLevel });
  const metrics = opts.metrics;
  const telemetry = metrics?.telemetry ?? noTelemetry;
  const database = await connect(config.backendStoreUri, {
    poolSize: opts.poolSize,
    probe: opts.migrate !== false,
    timeoutMs: config.dbTimeoutMs,
    onFault: (what, err) => {
      telemetry.dbFault(classifyDbError(err)?.kind ?? 'connection');
      log.error(what, { error: String((err as Error)?.message ?? err) });
    },
    onWait: metrics ? (s) => telemetry.dbPoolWait(s) : undefined,
  });
  if (metrics && database.poolUse) metrics.setPoolSource(database.poolUse);
  let registry: Database | undefined;
  if (config.registryStoreUri) {
    try {
      registry = await connect(config.registryStoreUri, {
        poolSize: opts.poolSize,
        probe: opts.migrate !== false,
        timeoutMs: config.dbTimeoutMs,
        onFault: (what, err) => {
          telemetry.dbFault(classifyDbError(err)?.kind ?? 'connection');
          log.error(`registry store: ${what}`, { error: String((err as Error)?.message ?? err) });
        },
      });
    } catch (err) {
      await database.close().catch(() => {});
      throw err;
    }
  }
  let { blobs, artifactRootBlobs } = await createArtifactStores(config);
  if (metrics) {
    blobs = meteredBlobStore(blobs, telemetry.artifactBytes);
    if (artifactRootBlobs) artifactRootBlobs = meteredBlobStore(artifactRootBlobs, telemetry.artifactBytes);
  }
  const registryDb = registry?.orm ?? database.orm;
  const deps: Deps = { config, database, db: database.orm, registryDb, log, now: Date.now, blobs, artifactRootBlobs, lifecycle: { draining: false }, metrics, telemetry, plans: new PlanMemo() };
  try {
    if (opts.migrate !== false) {
      await database.migrate();
      await warnWithoutTrigramIndex(database.orm, log);
      // The registry database gets Cairn's whole schema (one migration history for both); only
      // its registry tables are used.
      await registry?.migrate();
      await ensureDefaultExperiment(deps);
    }
  } catch (err) {
    await Promise.all([database.close().catch(() => {}), registry?.close().catch(() => {})]);
    throw err;
  }
  const close = async () => {
    await Promise.all([blobs.close(), artifactRootBlobs?.close()]);
    await Promise.all([database.close(), registry?.close()]);
  };
  return { ...deps, close };
}

/**
 * Migration 0032 skips the trigram index on run names where pg_trgm cannot be had (not installed,
 * not allowed): searches stay correct, but a run-name pattern with a leading wildcard reads every
 * run of the experiment. Said once a start, with the way to add it later (the migration has run).
 */
async function warnWithoutTrigramIndex(db: Orm, log: Logger): Promise<void> {
  const [{ present }] = await rows<{ present: boolean }>(db, sql`SELECT to_regclass('runs_name_trgm_idx') IS NOT NULL AS present`);
  if (present) return;
  log.warn('run names have no trigram index (pg_trgm could not be created): run_name LIKE/ILIKE patterns with a leading wildcard read every run', {
    fix: 'as a role that may: CREATE EXTENSION pg_trgm; CREATE INDEX runs_name_trgm_idx ON runs USING gin (name gin_trgm_ops);',
  });
}

// No network call here (see checkArtifactStores, which the server runs once at start).
async function createArtifactStores(config: Config): Promise<Pick<Deps, 'blobs' | 'artifactRootBlobs'>> {
  const s3 = { ...config.s3, timeoutMs: config.s3TimeoutMs };
  const blobs = await createBlobStore(parseStoreUri(config.artifactsDestination)!, s3);
  const root = config.defaultArtifactRoot.startsWith('mlflow-artifacts:') ? undefined : parseStoreUri(config.defaultArtifactRoot);
  return { blobs, artifactRootBlobs: root ? await createBlobStore(root, s3) : undefined };
}

/**
 * The server's start-up check of the S3 buckets it reads and writes itself: a missing bucket or
 * refused credentials stop start-up with one line naming the bucket, instead of surfacing at the
 * first upload. Folders are created on first write and need no check.
 */
export async function checkArtifactStores(deps: Pick<Deps, 'config' | 'blobs' | 'artifactRootBlobs'>): Promise<void> {
  const stores = [deps.config.serveArtifacts ? deps.blobs : undefined, deps.artifactRootBlobs];
  for (const store of stores) {
    if (!store?.check) continue;
    try {
      await store.check();
    } catch (err) {
      throw new StartupError((err as Error).message);
    }
  }
}
