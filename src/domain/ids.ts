import { invalidParam, notFound } from '../errors.js';

const EXPERIMENT_ID = /^[a-zA-Z0-9][\w-]{0,63}$/;
const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;

/** An experiment id as the client sends it (a string) to the bigint we store; ids we never issued are 404. */
export function experimentIdOf(id: string): number {
  if (!EXPERIMENT_ID.test(id)) throw invalidParam(`Invalid experiment ID: '${id.slice(0, 100)}'`);
  const n = /^\d{1,15}$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n)) throw notFound(`No Experiment with id=${id} exists`);
  return n;
}

export function checkRunId(id: string): string {
  if (!RUN_ID.test(id)) throw invalidParam(`Invalid run ID: '${id.slice(0, 100)}'`);
  return id;
}
