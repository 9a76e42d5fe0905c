import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { decodeOffsetToken, encodeOffsetToken } from '../../lib/page-token.js';
import { modelVersionSearchQuery, registeredModelSearchQuery } from '../search/registry-sql.js';
import { loadModelVersions, loadRegisteredModels, withoutAliases, type ModelVersionWire, type RegisteredModelWire } from './read.js';
import { REGISTRY_LIMITS } from './validation.js';

interface SearchInput {
  filter?: string;
  max_results?: number;
  order_by?: string[];
  page_token?: string;
}

function pageSize(value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw invalidParam(`Invalid value for request parameter max_results. It must be at most ${max}, but got value ${value}`);
  }
  return value;
}

export async function searchRegisteredModels(
  deps: Deps,
  input: SearchInput,
): Promise<{ registered_models?: RegisteredModelWire[]; next_page_token?: string }> {
  const limit = pageSize(input.max_results, REGISTRY_LIMITS.searchRegisteredModelsDefault, REGISTRY_LIMITS.searchRegisteredModelsMax);
  const offset = decodeOffsetToken(input.page_token);
  // One more than asked for tells whether another page exists.
  const ids = await rows<{ id: number | string }>(
    deps.registryDb,
    registeredModelSearchQuery({ filter: input.filter, orderBy: input.order_by, offset, limit: limit + 1 }),
  );
  const models = await loadRegisteredModels(deps.registryDb, ids.slice(0, limit).map((r) => Number(r.id)));
  const out: { registered_models?: RegisteredModelWire[]; next_page_token?: string } = {};
  if (models.length) out.registered_models = models;
  if (ids.length > limit) out.next_page_token = encodeOffsetToken(offset + limit);
  return out;
}

export async function searchModelVersions(
  deps: Deps,
  input: SearchInput,
): Promise<{ model_versions?: ModelVersionWire[]; next_page_token?: string }> {
  const limit = pageSize(input.max_results, REGISTRY_LIMITS.searchModelVersionsDefault, REGISTRY_LIMITS.searchModelVersionsMax);
  const offset = decodeOffsetToken(input.page_token);
  const keys = await rows<{ registered_model_id: number | string; version: number | string }>(
    deps.registryDb,
    modelVersionSearchQuery({ filter: input.filter, orderBy: input.order_by, offset, limit: limit + 1 }),
  );
  const versions = await loadModelVersions(
    deps.registryDb,
    keys.slice(0, limit).map((k) => ({ modelId: Number(k.registered_model_id), version: Number(k.version) })),
  );
  const out: { model_versions?: ModelVersionWire[]; next_page_token?: string } = {};
  if (versions.length) out.model_versions = versions.map(withoutAliases);
  if (keys.length > limit) out.next_page_token = encodeOffsetToken(offset + limit);
  return out;
}
