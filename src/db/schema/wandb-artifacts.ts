import { bigint, boolean, index, integer, pgTable, primaryKey, text, unique } from 'drizzle-orm/pg-core';
import { experiments } from './experiments.js';

// W&B Artifacts. A collection ("artifact sequence") is a name within a project (an MLflow
// experiment); each committed version has a number, a manifest digest and its files. File bytes are
// content-addressed by MD5 in the blob store, so the same file in many versions is stored once.

export const wandbArtifactCollections = pgTable(
  'wandb_artifact_collections',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    experimentId: bigint('experiment_id', { mode: 'number' })
      .notNull()
      .references(() => experiments.experimentId, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    type: text('type').notNull(),
    /** A portfolio holds versions linked from other collections (wandb_artifact_links), not its own. */
    portfolio: boolean('portfolio').notNull().default(false),
    /** `ArtifactCollection.description` and `.tags` (a JSON list), set by `collection.save()`. */
    description: text('description'),
    tags: text('tags').notNull().default('[]'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }),
  },
  (t) => [unique('wandb_artifact_collections_name').on(t.experimentId, t.name)],
);

export const wandbArtifacts = pgTable(
  'wandb_artifacts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    collectionId: bigint('collection_id', { mode: 'number' })
      .notNull()
      .references(() => wandbArtifactCollections.id, { onDelete: 'cascade' }),
    /** Assigned on commit (v0, v1, …); null while PENDING. */
    versionIndex: integer('version_index'),
    /** PENDING | COMMITTED | DELETED */
    state: text('state').notNull(),
    /** The manifest digest the client computed: equal digests mean equal contents. */
    digest: text('digest').notNull(),
    type: text('type').notNull(),
    description: text('description'),
    /** JSON text, as the client sent it. */
    metadata: text('metadata'),
    /** The logging run (MLflow run id); null once that run is gone. */
    runId: text('run_id'),
    clientId: text('client_id'),
    sequenceClientId: text('sequence_client_id'),
    /**
     * Where the manifest goes in the blob store: random per version, so a store shared by two
     * databases (or kept across a database reset) never hands one version another's manifest.
     */
    manifestKey: text('manifest_key').notNull(),
    /**
     * INCREMENTAL or PATCH when the client uploaded only the changes against baseArtifactId
     * (`Artifact(incremental=True)`); the commit merges them into a full manifest. Null: FULL.
     */
    manifestType: text('manifest_type'),
    baseArtifactId: bigint('base_artifact_id', { mode: 'number' }),
    /** JSON list of the aliases asked for at creation, applied on commit. */
    pendingAliases: text('pending_aliases').notNull().default('[]'),
    size: bigint('size', { mode: 'number' }).notNull().default(0),
    fileCount: integer('file_count').notNull().default(0),
    /** JSON list of the version's tags (`artifact.tags`). */
    tags: text('tags').notNull().default('[]'),
    /**
     * `artifact.ttl` in seconds; -2 when the TTL is disabled (`ttl = None`); null when inherited
     * (W&B's default): reported as -1, as W&B does.
     */
    ttlSeconds: bigint('ttl_seconds', { mode: 'number' }),
    historyStep: bigint('history_step', { mode: 'number' }),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    unique('wandb_artifacts_version').on(t.collectionId, t.versionIndex),
    index('wandb_artifacts_digest_idx').on(t.collectionId, t.digest),
    index('wandb_artifacts_client_id_idx').on(t.clientId),
    index('wandb_artifacts_run_idx').on(t.runId),
  ],
);

export const wandbArtifactAliases = pgTable(
  'wandb_artifact_aliases',
  {
    collectionId: bigint('collection_id', { mode: 'number' })
      .notNull()
      .references(() => wandbArtifactCollections.id, { onDelete: 'cascade' }),
    alias: text('alias').notNull(),
    artifactId: bigint('artifact_id', { mode: 'number' })
      .notNull()
      .references(() => wandbArtifacts.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.collectionId, t.alias] }), index('wandb_artifact_aliases_artifact_idx').on(t.artifactId)],
);

/** The entries of a committed version's manifest: files, and references (`ref`, bytes stay where it points). */
export const wandbArtifactFiles = pgTable(
  'wandb_artifact_files',
  {
    artifactId: bigint('artifact_id', { mode: 'number' })
      .notNull()
      .references(() => wandbArtifacts.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    /** Base64 MD5, the manifest's `digest`; the blob key is derived from it. For a reference, its digest (ETag, URL, …). */
    md5: text('md5').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    /** The URI a reference entry points at (`s3://…`, `file://…`, `https://…`); null for a stored file. */
    ref: text('ref'),
  },
  (t) => [primaryKey({ columns: [t.artifactId, t.path] }), index('wandb_artifact_files_md5_idx').on(t.md5)],
);

/** Blobs that finished uploading, by MD5: an MD5 already here is not uploaded again. */
export const wandbArtifactBlobs = pgTable('wandb_artifact_blobs', {
  md5: text('md5').primaryKey(),
  size: bigint('size', { mode: 'number' }).notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
});

/** Lineage: which runs used which versions (`run.use_artifact`). */
export const wandbArtifactUsage = pgTable(
  'wandb_artifact_usage',
  {
    runId: text('run_id').notNull(),
    artifactId: bigint('artifact_id', { mode: 'number' })
      .notNull()
      .references(() => wandbArtifacts.id, { onDelete: 'cascade' }),
    usedAs: text('used_as'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.artifactId] })],
);

/**
 * Versions linked into a portfolio (`link_artifact` / `link_model`, e.g. a registered model in
 * project `model-registry`): the portfolio numbers its members v0, v1, … on its own; the version
 * itself stays in the collection that logged it.
 */
export const wandbArtifactLinks = pgTable(
  'wandb_artifact_links',
  {
    collectionId: bigint('collection_id', { mode: 'number' })
      .notNull()
      .references(() => wandbArtifactCollections.id, { onDelete: 'cascade' }),
    artifactId: bigint('artifact_id', { mode: 'number' })
      .notNull()
      .references(() => wandbArtifacts.id, { onDelete: 'cascade' }),
    versionIndex: integer('version_index').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.collectionId, t.artifactId] }), unique('wandb_artifact_links_version').on(t.collectionId, t.versionIndex)],
);
