import { createBlobStore, parseStoreUri, type BlobStore } from './blobs/index.js';
import type { Config } from './config.js';
import { S3BlobStore } from './blobs/s3.js';
import { connect, StartupError, type Database, type Orm } from './db/connect.js';
import { ensureDefaultExperiment } from './domain/experiments.js';

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Everything a request needs, passed in rather than imported, so tests can build as many as they like. */
export interface Deps {
  config: Config;
  database: Database;
  db: Orm;
  log: Logger;
  now: () => number;
  /** The --artifacts-destination: what `mlflow-artifacts:/` URIs and the artifact proxy resolve to. */
  blobs: BlobStore;
  /** The --default-artifact-root when Cairn can list it itself (direct mode on s3:// or a folder). */
  artifactRootBlobs?: BlobStore;
  /** Set when a SIGTERM starts the drain: /ready answers 503 so load balancers stop sending traffic. */
  lifecycle: { draining: boolean };
}

export const consoleLogger: Logger = {
  info: (msg, fields) => console.log(JSON.stringify({ level: 'info', msg, ...fields })),
  error: (msg, fields) => console.error(JSON.stringify({ level: 'error', msg, ...fields })),
};

export const silentLogger: Logger = { info: () => {}, error: () => {} };

export interface CreateDepsOptions {
  log?: Logger;
  /** Skip migrations (a cluster worker whose primary already applied them). */
  migrate?: boolean;
  poolSize?: number;
}

export async function createDeps(config: Config, opts: CreateDepsOptions = {}): Promise<Deps & { close(): Promise<void> }> {
  const log = opts.log ?? consoleLogger;
  const database = await connect(config.backendStoreUri, {
    poolSize: opts.poolSize,
    probe: opts.migrate !== false,
    timeoutMs: config.dbTimeoutMs,
    onFault: (what, err) => log.error(what, { error: String((err as Error)?.message ?? err) }),
  });
  const { blobs, artifactRootBlobs } = createArtifactStores(config);
  const deps: Deps = { config, database, db: database.orm, log, now: Date.now, blobs, artifactRootBlobs, lifecycle: { draining: false } };
  try {
    if (opts.migrate !== false) {
      await database.migrate();
      await ensureDefaultExperiment(deps);
    }
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
  const close = async () => {
    await Promise.all([blobs.close(), artifactRootBlobs?.close()]);
    await database.close();
  };
  return { ...deps, close };
}

// No network call here (see checkArtifactStores, which the server runs once at start).
function createArtifactStores(config: Config): Pick<Deps, 'blobs' | 'artifactRootBlobs'> {
  const s3 = { ...config.s3, timeoutMs: config.s3TimeoutMs };
  const blobs = createBlobStore(parseStoreUri(config.artifactsDestination)!, s3);
  const root = config.defaultArtifactRoot.startsWith('mlflow-artifacts:') ? undefined : parseStoreUri(config.defaultArtifactRoot);
  return { blobs, artifactRootBlobs: root ? createBlobStore(root, s3) : undefined };
}

/**
 * The server's start-up check of the S3 buckets it reads and writes itself: a missing bucket or
 * refused credentials stop start-up with one line naming the bucket, instead of surfacing at the
 * first upload. Folders are created on first write and need no check.
 */
export async function checkArtifactStores(deps: Pick<Deps, 'config' | 'blobs' | 'artifactRootBlobs'>): Promise<void> {
  const stores = [deps.config.serveArtifacts ? deps.blobs : undefined, deps.artifactRootBlobs];
  for (const store of stores) {
    if (!(store instanceof S3BlobStore)) continue;
    try {
      await store.check();
    } catch (err) {
      throw new StartupError((err as Error).message);
    }
  }
}
