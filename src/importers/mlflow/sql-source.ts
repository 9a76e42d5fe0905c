import type { Readable } from 'node:stream';
import { LocalArtifacts } from './local-artifacts.js';
import { openPostgres, openSqlite, type Row, type SqlReader } from './sql-readers.js';
import type * as S from './source.js';
import { LOGGED_MODEL_STATUS_BY_NUMBER, optionalNumber, optionalString, PAGE } from './source.js';

const RUN_PAGE = 200;
const kv = (list: Row[]): S.KV[] => list.map((r) => ({ key: String(r.key), value: r.value === null ? '' : String(r.value) }));

/**
 * An MLflow SQL database read directly with MLflow's schema (2.x and 3.x: tables a version lacks,
 * such as logged_models before 3.0 or aliases before 2.3, read as empty). Rows are read page by page.
 */
export class MlflowSqlSource implements S.MlflowSource {
  skip: (what: string, why: string) => void = () => {};
  private readonly tables = new Map<string, boolean>();

  private constructor(
    readonly label: string,
    private readonly db: SqlReader,
    private readonly artifacts: LocalArtifacts,
  ) {}

  static async open(uri: string, proxiedArtifacts?: string): Promise<MlflowSqlSource> {
    const db = uri.startsWith('sqlite:') ? await openSqlite(uri) : await openPostgres(uri);
    const label = uri.replace(/\/\/[^@/]*@/, '//');
    return new MlflowSqlSource(label, db, new LocalArtifacts(proxiedArtifacts, process.cwd()));
  }

  close(): Promise<void> {
    return this.db.close();
  }

  private async has(table: string): Promise<boolean> {
    if (!this.tables.has(table)) this.tables.set(table, await this.db.hasTable(table));
    return this.tables.get(table)!;
  }

  async *experiments(): AsyncGenerator<S.SrcExperiment> {
    for (const e of await this.db.all('select * from experiments order by experiment_id')) {
      yield {
        experiment_id: String(e.experiment_id),
        name: String(e.name),
        artifact_location: optionalString(e.artifact_location),
        lifecycle_stage: optionalString(e.lifecycle_stage) ?? 'active',
        creation_time: optionalNumber(e.creation_time),
        last_update_time: optionalNumber(e.last_update_time),
        tags: kv(await this.db.all('select key, value from experiment_tags where experiment_id = ? order by key', [Number(e.experiment_id)])),
      };
    }
  }

  async *runs(experimentId: string): AsyncGenerator<S.SrcRun> {
    for (let offset = 0; ; offset += RUN_PAGE) {
      const page = await this.db.all('select * from runs where experiment_id = ? order by start_time, run_uuid limit ? offset ?', [Number(experimentId), RUN_PAGE, offset]);
      for (const r of page) yield await this.run(r, experimentId);
      if (page.length < RUN_PAGE) return;
    }
  }

  private async run(r: Row, experimentId: string): Promise<S.SrcRun> {
    const id = String(r.run_uuid);
    const tags = kv(await this.db.all('select key, value from tags where run_uuid = ? order by key', [id]));
    const info: S.SrcRunInfo = {
      run_id: id,
      run_name: optionalString(r.name) || tags.find((t) => t.key === 'mlflow.runName')?.value,
      experiment_id: experimentId,
      user_id: optionalString(r.user_id),
      status: optionalString(r.status) ?? 'FINISHED',
      start_time: optionalNumber(r.start_time),
      end_time: optionalNumber(r.end_time),
      artifact_uri: optionalString(r.artifact_uri) ?? '',
      lifecycle_stage: optionalString(r.lifecycle_stage) ?? 'active',
    };
    const metrics = (await this.db.all('select distinct key from metrics where run_uuid = ? order by key', [id])).map((m) => ({ key: String(m.key) }));
    const params = kv(await this.db.all('select key, value from params where run_uuid = ? order by key', [id]));
    return { info, data: { metrics, params, tags }, inputs: { dataset_inputs: await this.datasetInputs(id) } };
  }

  private async datasetInputs(runId: string): Promise<NonNullable<S.SrcRun['inputs']>['dataset_inputs']> {
    if (!(await this.has('inputs'))) return [];
    const inputs = await this.db.all(
      `select i.input_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source, d.dataset_schema, d.dataset_profile
         from inputs i join datasets d on d.dataset_uuid = i.source_id
        where i.source_type = 'DATASET' and i.destination_type = 'RUN' and i.destination_id = ?`,
      [runId],
    );
    const out = [];
    for (const i of inputs) {
      const tags = await this.db.all('select name as key, value from input_tags where input_uuid = ?', [i.input_uuid]);
      out.push({
        tags: kv(tags),
        dataset: { name: String(i.name), digest: String(i.digest), source_type: String(i.dataset_source_type), source: String(i.dataset_source), schema: optionalString(i.dataset_schema), profile: optionalString(i.dataset_profile) },
      });
    }
    return out;
  }

  /** Keyset pages in the order of the primary key's tail, so a long history is never read whole. */
  async *metricHistory(run: S.SrcRunInfo, key: string): AsyncGenerator<S.SrcMetric[]> {
    let after: [number, number, number, number] | undefined;
    for (;;) {
      const page = await this.db.all(
        `select value, timestamp, step, is_nan from metrics where run_uuid = ? and key = ?
           ${after ? 'and (step, timestamp, is_nan, value) > (?, ?, ?, ?)' : ''}
         order by step, timestamp, is_nan, value limit ${PAGE}`,
        after ? [run.run_id, key, ...this.bool(after)] : [run.run_id, key],
      );
      if (!page.length) return;
      yield page.map((m) => ({ key, value: truthy(m.is_nan) ? NaN : Number(m.value), timestamp: Number(m.timestamp), step: Number(m.step) }));
      const last = page[page.length - 1];
      after = [Number(last.step), Number(last.timestamp), truthy(last.is_nan) ? 1 : 0, Number(last.value)];
      if (page.length < PAGE) return;
    }
  }

  /** is_nan is a boolean column on Postgres and an integer on SQLite. */
  private bool([s, t, n, v]: [number, number, number, number]): unknown[] {
    return [s, t, this.db.engine === 'postgresql' ? n === 1 : n, v];
  }

  artifactFiles(run: S.SrcRunInfo): AsyncIterable<S.SrcFile> {
    return this.artifacts.files(run.artifact_uri);
  }

  openArtifact(run: S.SrcRunInfo, path: string): Promise<Readable> {
    return this.artifacts.open(run.artifact_uri, path);
  }

  async *loggedModels(experimentId: string): AsyncGenerator<S.SrcLoggedModel> {
    if (!(await this.has('logged_models'))) return;
    for (const m of await this.db.all('select * from logged_models where experiment_id = ? order by creation_timestamp_ms, model_id', [Number(experimentId)])) {
      const id = String(m.model_id);
      const metrics = await this.db.all('select * from logged_model_metrics where model_id = ? order by metric_step, metric_timestamp_ms', [id]);
      yield {
        model_id: id,
        experiment_id: experimentId,
        name: String(m.name),
        artifact_uri: String(m.artifact_location),
        creation_timestamp_ms: optionalNumber(m.creation_timestamp_ms),
        last_updated_timestamp_ms: optionalNumber(m.last_updated_timestamp_ms),
        status: LOGGED_MODEL_STATUS_BY_NUMBER[String(m.status)] ?? 'READY',
        lifecycle_stage: optionalString(m.lifecycle_stage) ?? 'active',
        model_type: optionalString(m.model_type),
        source_run_id: optionalString(m.source_run_id),
        status_message: optionalString(m.status_message),
        tags: kv(await this.db.all('select tag_key as key, tag_value as value from logged_model_tags where model_id = ? order by tag_key', [id])),
        params: kv(await this.db.all('select param_key as key, param_value as value from logged_model_params where model_id = ? order by param_key', [id])),
        metrics: metrics.map((p) => ({
          key: String(p.metric_name),
          value: p.metric_value === null ? NaN : Number(p.metric_value),
          timestamp: Number(p.metric_timestamp_ms),
          step: Number(p.metric_step),
          run_id: String(p.run_id),
          model_id: id,
          dataset_name: optionalString(p.dataset_name),
          dataset_digest: optionalString(p.dataset_digest),
        })),
      };
    }
  }

  loggedModelFiles(model: S.SrcLoggedModel): AsyncIterable<S.SrcFile> {
    return this.artifacts.files(model.artifact_uri);
  }

  openLoggedModelArtifact(model: S.SrcLoggedModel, path: string): Promise<Readable> {
    return this.artifacts.open(model.artifact_uri, path);
  }

  async *registeredModels(): AsyncGenerator<S.SrcModel> {
    const hasAliases = await this.has('registered_model_aliases');
    for (const m of await this.db.all('select * from registered_models order by name')) {
      const name = String(m.name);
      const aliases = hasAliases ? await this.db.all('select alias, version from registered_model_aliases where name = ? order by alias', [name]) : [];
      yield {
        name,
        creation_timestamp: optionalNumber(m.creation_time),
        last_updated_timestamp: optionalNumber(m.last_updated_time),
        description: optionalString(m.description),
        tags: kv(await this.db.all('select key, value from registered_model_tags where name = ? order by key', [name])),
        aliases: aliases.map((a) => ({ alias: String(a.alias), version: String(a.version) })),
      };
    }
  }

  async versions(model: S.SrcModel): Promise<S.SrcVersion[]> {
    const name = model.name;
    const out: S.SrcVersion[] = [];
    for (const v of await this.db.all(`select * from model_versions where name = ? and current_stage <> 'Deleted_Internal' order by version`, [name])) {
      const source = optionalString(v.source) ?? '';
      out.push({
        name,
        version: String(v.version),
        creation_timestamp: optionalNumber(v.creation_time),
        last_updated_timestamp: optionalNumber(v.last_updated_time),
        description: optionalString(v.description),
        current_stage: optionalString(v.current_stage),
        source,
        run_id: optionalString(v.run_id) || undefined,
        run_link: optionalString(v.run_link) || undefined,
        tags: kv(await this.db.all('select key, value from model_version_tags where name = ? and version = ? order by key', [name, Number(v.version)])),
      });
    }
    return out;
  }
}

const truthy = (v: unknown) => v === true || v === 1 || v === '1' || v === 't';
