import { get, post } from './client';
import { API_ROOT } from '../router';

// Cairn's UI endpoints used by the run and compare pages (see /api/2.0/cairn/ui/* in openapi/).

const U = '2.0/cairn/ui';

export interface SeriesPoint {
  x: number;
  step: number;
  timestamp: number;
  value: number | string;
  min: number | string;
  max: number | string;
  count: number;
}

export interface MetricSeries {
  run_id: string;
  key: string;
  total_points: number;
  x_min: number | null;
  x_max: number | null;
  downsampled: boolean;
  points: SeriesPoint[];
}

export interface SeriesQuery {
  run_ids: string[];
  keys: string[];
  x_axis?: 'step' | 'timestamp';
  buckets?: number;
  x_min?: number;
  x_max?: number;
}

export const metricSeries = (q: SeriesQuery) => post<{ series: MetricSeries[] }>(`${U}/metrics/series`, q).then((r) => r.series);

export interface OutputChunk {
  text: string;
  next_offset: number;
  complete: boolean;
}

export const runOutput = (runId: string, offset: number) => get<OutputChunk>(`${U}/runs/output`, { run_id: runId, offset });

export type MediaType = 'image' | 'images' | 'table' | 'histogram' | 'confusion_matrix' | 'other';

export interface MediaItem {
  key: string;
  step: number;
  type: MediaType;
  caption?: string;
  file_path?: string;
  width?: number;
  height?: number;
  table_key?: string;
  chart?: string;
  value: Record<string, unknown>;
}

export const runMedia = (runId: string) => get<{ items: MediaItem[]; truncated: boolean }>(`${U}/runs/media`, { run_id: runId });

/** A file below the run's artifact root (artifacts, W&B media), streamed by Cairn. */
export const runFileUrl = (runId: string, path: string) => `${API_ROOT}api/${U}/runs/file?${new URLSearchParams({ run_id: runId, path })}`;

export interface ArtifactFile {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export async function listArtifacts(runId: string, path?: string): Promise<ArtifactFile[]> {
  const out: ArtifactFile[] = [];
  let page_token: string | undefined;
  do {
    const r = await get<{ files?: ArtifactFile[]; next_page_token?: string }>(`2.0/mlflow/artifacts/list`, { run_id: runId, path: path || undefined, page_token });
    out.push(...(r.files ?? []));
    page_token = r.next_page_token || undefined;
  } while (page_token && out.length < 10_000);
  return out;
}

/** A small text file's content (previews); throws the API's error on failure. */
export async function fetchText(url: string, maxBytes = 2 * 1024 * 1024): Promise<{ text: string; truncated: boolean }> {
  const res = await fetch(url);
  if (!res.ok) {
    let msg = res.statusText;
    try {
      msg = ((await res.json()) as { message?: string }).message ?? msg;
    } catch {
      /* not JSON */
    }
    throw new Error(msg);
  }
  const buf = await res.arrayBuffer();
  const truncated = buf.byteLength > maxBytes;
  return { text: new TextDecoder().decode(truncated ? buf.slice(0, maxBytes) : buf), truncated };
}

/** Moves a run to another experiment (W&B: project); a W&B run answers its new entity/project. */
export const moveRun = (runId: string, experimentId: string) =>
  post<{ experiment_id: string; entity?: string; project?: string }>('2.0/cairn/runs/move', { run_id: runId, experiment_id: experimentId });
