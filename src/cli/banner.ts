import { authBanner } from '../auth/startup.js';
import { isPglite, redact, type Config } from '../config.js';

// What a new user needs to start logging, printed once the port is open. Every command in it is
// for *this* server: a `keys create` without the server's --data-dir/--backend-store-uri would make
// a key in another database, which the server then refuses.

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** `cairn keys create` with the store flags that reach this server's database. */
export function keysCreateCommand(config: Config): string {
  const base = 'node bin/cairn.js keys create';
  const defaultEmbedded = `pglite://${config.dataDir}/db`;
  if (config.backendStoreUri === defaultEmbedded) return `${base} --data-dir ${quote(config.dataDir)}`;
  // A password is never printed: the operator puts it back (it is in their own environment or flags).
  return `${base} --backend-store-uri ${quote(redact(config.backendStoreUri))}`;
}

export function startupBanner(config: Config, port: number): string[] {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}${config.staticPrefix}`;
  const store = isPglite(config.backendStoreUri) ? `embedded Postgres (${config.backendStoreUri})` : redact(config.backendStoreUri);
  const artifacts = config.serveArtifacts
    ? `${redact(config.artifactsDestination)} (new experiments: ${config.defaultArtifactRoot}, proxied by this server)`
    : `${redact(config.defaultArtifactRoot)} (written by the clients directly)`;
  const keys = keysCreateCommand(config);
  const registry = config.registryStoreUri;
  const lines = [
    `Cairn listening on http://${config.host}:${port}${config.staticPrefix} (backend: ${store}, workers: ${config.workers})`,
    ...(registry ? [`  registry:  ${isPglite(registry) ? `embedded Postgres (${registry})` : redact(registry)} (registered models, versions, prompts)`] : []),
    ...(config.mlflowUi
      ? [`  web UI:    ${url}/ (MLflow's UI, mlflow ${config.mlflowUi.version ?? '(version unknown)'} at ${config.mlflowUi.dir}); Cairn's UI: ${url}/cairn/`]
      : [`  web UI:    ${url}/`]),
    `  artifacts: ${artifacts}`,
    ...(config.exposePrometheus ? [`  metrics:   ${url}/metrics (Prometheus)`] : []),
    ...authBanner(config.auth, config.host).info,
    `  export MLFLOW_TRACKING_URI=${url}`,
    `  export WANDB_BASE_URL=${url} WANDB_API_KEY=$(${keys})`,
  ];
  if (keys.includes(':***@')) lines.push('  (put the database password back in place of *** in the keys command)');
  return lines;
}
