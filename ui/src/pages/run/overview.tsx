import { getRun, searchRunsPage } from '../../api/mlflow';
import { runName, tagValue, type Run } from '../../api/types';
import { StatusBadge } from '../../components/states';
import { fmtDuration, fmtNumber, fmtTime } from '../../format';
import { useAsync } from '../../hooks';
import { href } from '../../router';
import { RunActivity } from './activity';
import { Notes, NOTE_TAG } from './notes';
import { ParamsTree } from './params-tree';
import { TagsEditor } from './tags';

const PARENT_TAG = 'mlflow.parentRunId';

/** Where the run's code came from: a git commit (linked when the repo URL is a web one) and entry point. */
function Source({ run }: { run: Run }) {
  const tags = run.data.tags;
  const name = tagValue(tags, 'mlflow.source.name');
  const commit = tagValue(tags, 'mlflow.source.git.commit');
  const repo = tagValue(tags, 'mlflow.source.git.repoURL') ?? tagValue(tags, 'mlflow.gitRepoURL');
  const web = repo?.replace(/^git@([^:]+):/, 'https://$1/').replace(/\.git$/, '');
  return (
    <>
      <dt>Source</dt>
      <dd className="mono">{name ? name : '—'}{tagValue(tags, 'mlflow.source.type') ? <span className="muted"> ({tagValue(tags, 'mlflow.source.type')})</span> : null}</dd>
      <dt>Git commit</dt>
      <dd className="mono" data-testid="git-commit">
        {commit ? (web?.startsWith('https://') ? <a href={`${web}/commit/${commit}`} target="_blank" rel="noreferrer">{commit.slice(0, 12)}</a> : commit.slice(0, 12)) : '—'}
        {repo && <span className="muted"> {repo}</span>}
      </dd>
    </>
  );
}

function Lineage({ run }: { run: Run }) {
  const parentId = tagValue(run.data.tags, PARENT_TAG);
  const parent = useAsync(() => (parentId ? getRun(parentId) : Promise.resolve(undefined)), [parentId]);
  const children = useAsync(
    () =>
      searchRunsPage(
        { experimentIds: [run.info.experiment_id], filter: `tags.\`${PARENT_TAG}\` = '${run.info.run_id}'`, viewType: 'ACTIVE_ONLY', orderBy: ['attributes.start_time DESC'] },
        100,
      ).then((r) => r.runs ?? []),
    [run.info.run_id],
  );
  return (
    <>
      <dt>Parent run</dt>
      <dd data-testid="parent-run">
        {parentId ? (
          <a href={href(`/experiments/${parent.data?.info.experiment_id ?? run.info.experiment_id}/runs/${parentId}`)}>{parent.data ? runName(parent.data) : parentId}</a>
        ) : (
          '—'
        )}
      </dd>
      <dt>Child runs</dt>
      <dd data-testid="child-runs">
        {children.data?.length ? (
          <span className="child-list">
            {children.data.map((c) => (
              <a key={c.info.run_id} className="chip" href={href(`/experiments/${c.info.experiment_id}/runs/${c.info.run_id}`)}>
                {runName(c)} <StatusBadge status={c.info.status} />
              </a>
            ))}
          </span>
        ) : (
          '—'
        )}
      </dd>
    </>
  );
}

export function OverviewTab({ run, experimentName, onChanged }: { run: Run; experimentName?: string; onChanged: () => void }) {
  const i = run.info;
  const tags = run.data.tags ?? [];
  const metrics = [...(run.data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true }));
  return (
    <div className="overview">
      <div className="overview-top">
        <section className="card">
          <div className="card-title">Details</div>
          <dl className="kv" data-testid="run-details">
            <dt>Run ID</dt><dd className="mono">{i.run_id}</dd>
            <dt>Experiment</dt><dd><a href={href(`/experiments/${i.experiment_id}`)}>{experimentName ?? i.experiment_id}</a></dd>
            <dt>Status</dt><dd><StatusBadge status={i.status} />{i.lifecycle_stage === 'deleted' && <span className="badge status-failed">deleted</span>}</dd>
            <dt>Started</dt><dd>{fmtTime(i.start_time)}</dd>
            <dt>Ended</dt><dd>{fmtTime(i.end_time)}</dd>
            <dt>Duration</dt><dd>{fmtDuration(i.start_time, i.end_time, i.status === 'RUNNING')}</dd>
            <dt>User</dt><dd>{i.user_id || tagValue(tags, 'mlflow.user') || '—'}</dd>
            <RunActivity runId={i.run_id} reload={run} />
            <Source run={run} />
            {tagValue(tags, 'wandb.group') && (<><dt>W&B group</dt><dd>{tagValue(tags, 'wandb.group')}</dd></>)}
            {tagValue(tags, 'wandb.job_type') && (<><dt>Job type</dt><dd>{tagValue(tags, 'wandb.job_type')}</dd></>)}
            <Lineage run={run} />
            <dt>Artifacts</dt><dd className="mono muted">{i.artifact_uri ?? '—'}</dd>
          </dl>
        </section>
        <div className="overview-side">
          <section className="card">
            <div className="card-title">Notes</div>
            <Notes runId={i.run_id} value={tagValue(tags, NOTE_TAG) ?? ''} onSaved={onChanged} />
          </section>
          <section className="card">
            <div className="card-title">Tags</div>
            <TagsEditor runId={i.run_id} tags={tags} onChanged={onChanged} />
          </section>
        </div>
      </div>
      <div className="overview-bottom">
        <section className="card" data-testid="run-params">
          <div className="card-title">Parameters · {run.data.params?.length ?? 0}</div>
          <ParamsTree params={run.data.params ?? []} />
        </section>
        <section className="card">
          <div className="card-title">Metrics · latest</div>
          {metrics.length ? (
            <div className="metric-list" data-testid="run-metrics">
              {metrics.map((m) => (
                <div key={m.key} className="metric-row">
                  <span className="metric-key" title={m.key}>{m.key}</span>
                  <span className="mono">{fmtNumber(m.value)}</span>
                  <span className="muted mono">step {String(m.step)}</span>
                </div>
              ))}
            </div>
          ) : (
            <span className="muted">No metrics logged.</span>
          )}
        </section>
      </div>
    </div>
  );
}
