import { artifactKey, percentDecodeFully } from '../blobs/keys.js';
import { invalidParam, MlflowError } from '../errors.js';

/**
 * Schemes a client may choose for an experiment's artifact_location. Cairn never opens these
 * itself (except mlflow-artifacts:, which maps into its own store), so none can make the server
 * read a local file or fetch a URL (CVE-2023-1177, CVE-2024-1483, CVE-2024-8859, SSRF); the
 * client writes to the bucket it names with its own credentials.
 */
export const USER_LOCATION_SCHEMES = ['mlflow-artifacts', 's3', 'gs', 'wasbs', 'abfss'] as const;

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function validateUserArtifactLocation(location: string): void {
  const bad = (why: string) =>
    invalidParam(`Invalid artifact_location '${location.slice(0, 200)}': ${why}`);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(location)?.[1]?.toLowerCase();
  if (!scheme || !(USER_LOCATION_SCHEMES as readonly string[]).includes(scheme)) {
    throw bad(`the scheme must be one of ${USER_LOCATION_SCHEMES.map((s) => `${s}:`).join(', ')}`);
  }
  let decoded: string;
  try {
    decoded = percentDecodeFully(location);
  } catch (err) {
    throw err instanceof MlflowError ? bad('too many levels of percent-encoding') : err;
  }
  for (const form of [location, decoded]) {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(form)) throw bad('control characters are not allowed');
    if (/[#;?\\]/.test(form)) throw bad("URLs can't include fragments, params, queries or backslashes");
    if (/(^|\/)\.\.?(\/|$)/.test(form.slice(scheme.length + 1))) throw bad("'..' and '.' segments are not allowed");
  }
  const rest = location.slice(scheme.length + 1);
  if (scheme === 'mlflow-artifacts') {
    // A host here would send other users' clients, and their credentials, to that host.
    if (rest.startsWith('//')) throw bad('mlflow-artifacts: locations may not name a host');
    artifactKeyOrBad(rest.replace(/^\/+/, ''), bad);
    return;
  }
  if (!rest.startsWith('//')) throw bad(`expected ${scheme}://<bucket>/<path>`);
  const authority = rest.slice(2).split('/')[0];
  if (scheme === 's3' && authority && !BUCKET.test(authority)) throw bad(`'${authority}' is not a valid S3 bucket name`);
  if (!authority) throw bad('expected a bucket or container name');
}

function artifactKeyOrBad(key: string, bad: (why: string) => MlflowError): string {
  try {
    return artifactKey(key, { allowRoot: true, decoded: true });
  } catch (err) {
    if (err instanceof MlflowError) throw bad(err.message.replace(/^Invalid path: /, ''));
    throw err;
  }
}

/**
 * The store key behind a proxied URI (`mlflow-artifacts:/1/<run>/artifacts` or, as the client also
 * accepts, `mlflow-artifacts://host/1/...`), or undefined when the URI is not a proxied one.
 */
export function proxiedKeyOf(uri: string): string | undefined {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?(\/.*)?$/.exec(uri);
  if (!m) return undefined;
  return artifactKey((m[1] ?? '').replace(/^\/+/, ''), { allowRoot: true, decoded: true });
}
