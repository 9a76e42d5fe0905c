import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';
import { SERVER_FLAGS } from '../../src/cli/server-flags.js';
import { keysCreateCommand, startupBanner } from '../../src/cli/banner.js';
import { helpOrVersion } from '../../src/main.js';

const parse = (args: string[], env: NodeJS.ProcessEnv = {}) => parseConfig(['--data-dir', '/tmp/cairn-cli-test', ...args], env);
const failure = (args: string[]) => {
  try {
    parse(args);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`no error for ${args.join(' ')}`);
};

// Every option `mlflow server` 3.18 declares (mlflow/cli/__init__.py and mlflow/utils/cli_args.py).
const MLFLOW_SERVER_FLAGS = [
  'backend-store-uri', 'read-replica-backend-store-uri', 'registry-store-uri', 'default-artifact-root', 'serve-artifacts',
  'no-serve-artifacts', 'artifacts-only', 'artifacts-presigned-only', 'artifacts-destination', 'host', 'port', 'workers',
  'static-prefix', 'allowed-hosts', 'cors-allowed-origins', 'disable-security-middleware', 'x-frame-options', 'gunicorn-opts',
  'waitress-opts', 'uvicorn-opts', 'dev', 'expose-prometheus', 'app-name', 'trace-archival-config', 'secrets-cache-ttl',
  'secrets-cache-max-size', 'workspace-store-uri', 'enable-workspaces', 'disable-workspaces',
];

describe('cairn server flags', () => {
  it('accepts every flag mlflow server 3.18 has', () => {
    const known = new Set(SERVER_FLAGS.map((f) => f.name));
    expect(MLFLOW_SERVER_FLAGS.filter((f) => !known.has(f))).toEqual([]);
  });

  it('starts from an mlflow server command line, with one note per flag that has no effect here', () => {
    const cfg = parse([
      '--host', '127.0.0.1', '-p', '5005', '--read-replica-backend-store-uri', 'postgresql://replica/db', '--gunicorn-opts', '--timeout 60',
      '--dev', '--static-prefix', '/mlflow', '--expose-prometheus', '/tmp/prom', '--allowed-hosts', 'a.example',
      '--cors-allowed-origins', 'https://a.example', '--x-frame-options', 'DENY', '--disable-security-middleware',
    ]);
    expect(cfg.port).toBe(5005);
    expect(cfg.staticPrefix).toBe('/mlflow');
    expect(cfg.exposePrometheus).toBe(true);
    expect(cfg.ignoredFlags).toHaveLength(3);
    expect(cfg.ignoredFlags.join('\n')).toMatch(/^cairn: --read-replica-backend-store-uri is ignored: reads and writes share/m);
    expect(cfg.ignoredFlags.join('\n')).toContain('--gunicorn-opts is ignored: Cairn is a Node server');
    expect(cfg.ignoredFlags.join('\n')).toContain('--dev is ignored');
    expect(cfg.ignoredFlags.join('\n')).not.toContain('--expose-prometheus');
  });

  it('takes --registry-store-uri as a second database for the registry, as mlflow server does', () => {
    const pg = 'postgresql://u@db.example/registry';
    expect(parse(['--backend-store-uri', 'postgresql://u@db.example/tracking', '--registry-store-uri', pg]).registryStoreUri).toBe(pg);
    expect(parse(['--backend-store-uri', 'postgresql://u@db.example/tracking'], { MLFLOW_REGISTRY_STORE_URI: pg }).registryStoreUri).toBe(pg);
    // Not given, or the backend store itself: one database.
    expect(parse([]).registryStoreUri).toBeUndefined();
    expect(parse(['--backend-store-uri', pg, '--registry-store-uri', pg]).registryStoreUri).toBeUndefined();
    // An embedded registry folder, like an embedded backend store, means one process.
    const embedded = parse(['--backend-store-uri', 'postgresql://u@db.example/tracking', '--registry-store-uri', 'pglite:///tmp/reg', '--workers', '4']);
    expect(embedded.registryStoreUri).toBe('pglite:///tmp/reg');
    expect(embedded.workers).toBe(1);
    expect(parse(['--registry-store-uri', pg]).ignoredFlags.join('\n')).not.toContain('registry');
    expect(failure(['--registry-store-uri', 'sqlite:///reg.db'])).toBe(
      "unsupported --registry-store-uri 'sqlite:///reg.db': use postgresql://user:pw@host:5432/db or pglite://<folder>",
    );
    expect(failure(['--registry-store-uri', pg, '--app-name', 'basic-auth'])).toMatch(/^--registry-store-uri cannot be used with --app-name basic-auth/);
    const banner = startupBanner(parse(['--registry-store-uri', 'postgresql://u:secret@db.example/registry']), 5000).join('\n');
    expect(banner).toContain('registry:  postgresql://u:***@db.example/registry (registered models, versions, prompts)');
    expect(banner).not.toContain('secret');
  });

  it('takes the log level and the access-log switch from flags or the environment', () => {
    expect(parse([]).logLevel).toBe('info');
    expect(parse([]).accessLog).toBe(true);
    expect(parse(['--log-level', 'DEBUG']).logLevel).toBe('debug');
    expect(parse([], { CAIRN_LOG_LEVEL: 'warn' }).logLevel).toBe('warn');
    expect(parse(['--log-level', 'error'], { CAIRN_LOG_LEVEL: 'warn' }).logLevel).toBe('error');
    expect(parse(['--no-access-log']).accessLog).toBe(false);
    expect(parse([], { CAIRN_ACCESS_LOG: 'false' }).accessLog).toBe(false);
    expect(failure(['--log-level', 'loud'])).toBe("invalid value for --log-level: expected one of debug, info, warn, error, silent (got 'loud')");
  });

  it('takes --static-prefix and --expose-prometheus from the environment as mlflow does', () => {
    const cfg = parse([], { MLFLOW_STATIC_PREFIX: '/a/b', MLFLOW_EXPOSE_PROMETHEUS: '/tmp/x' });
    expect(cfg.staticPrefix).toBe('/a/b');
    expect(cfg.exposePrometheus).toBe(true);
    expect(parse([]).exposePrometheus).toBe(false);
    expect(parse([]).staticPrefix).toBe('');
  });

  it('takes the sweep agent timeout in seconds, from the flag or CAIRN_WANDB_AGENT_TIMEOUT', () => {
    expect(parse([]).wandbAgentTimeoutMs).toBe(120_000);
    expect(parse(['--wandb-agent-timeout', '7.5']).wandbAgentTimeoutMs).toBe(7500);
    expect(parse([], { CAIRN_WANDB_AGENT_TIMEOUT: '30' }).wandbAgentTimeoutMs).toBe(30_000);
  });

  it('names the flag and what it expects when a value is wrong', () => {
    expect(failure(['--port', 'abc'])).toBe("invalid value for --port: expected a whole number from 0 to 65535 (got 'abc')");
    expect(failure(['--workers', '0'])).toBe("invalid value for --workers: expected a whole number from 1 to 256 (got '0')");
    expect(failure(['--static-prefix', 'mlflow'])).toContain("--static-prefix: expected a path that begins with '/' and does not end with '/'");
    expect(failure(['--static-prefix', '/mlflow/'])).toContain('--static-prefix');
    expect(failure(['--db-timeout', 'soon'])).toContain('--db-timeout: expected a number of seconds');
    expect(failure(['--wandb-agent-timeout', '0'])).toContain('--wandb-agent-timeout: expected a number of seconds from 1 to 86400');
    expect(failure(['--bogus'])).toBe('unknown flag --bogus: cairn server --help lists the flags');
    expect(failure(['--port'])).toBe('--port needs a value: cairn server --help says which');
  });
});

describe('--help and --version', () => {
  it('every command has readable help: one flag a line, mlflow flags included', () => {
    const server = helpOrVersion(['server', '--help'])!;
    expect(server).toMatch(/^usage: cairn server/);
    for (const flag of ['--port PORT', '--static-prefix /PREFIX', '--expose-prometheus DIR', '--gunicorn-opts OPTS']) {
      expect(server.split('\n').filter((l) => l.includes(flag))).toHaveLength(1);
    }
    expect(Math.max(...server.split('\n').map((l) => l.length))).toBeLessThan(170);
    expect(helpOrVersion(['--help'])).toMatch(/^usage: cairn <command>/);
    expect(helpOrVersion(['db', 'migrate', '--help'])).toMatch(/^usage: cairn db migrate/);
    expect(helpOrVersion(['keys', 'create', '--help'])).toMatch(/^usage: cairn keys create/);
    expect(helpOrVersion(['server', '--port', '1'])).toBeUndefined();
  });

  it('every command prints the version', () => {
    for (const argv of [['--version'], ['server', '--version'], ['keys', 'list', '--version'], ['db', 'migrate', '--version']]) {
      expect(helpOrVersion(argv)).toMatch(/^cairn \d+\.\d+\.\d+ \(speaks the MLflow 3\.18\.0 API\)$/);
    }
  });
});

describe('the start-up banner', () => {
  it('prints a keys command for this server, where artifacts go and the UI address', () => {
    const cfg = parse(['--port', '5001', '--static-prefix', '/p']);
    const text = startupBanner(cfg, 5001).join('\n');
    expect(text).toContain('WANDB_API_KEY=$(node bin/cairn.js keys create --data-dir /tmp/cairn-cli-test)');
    expect(text).toContain('web UI:    http://127.0.0.1:5001/p/');
    expect(text).toContain('artifacts: /tmp/cairn-cli-test/artifacts');
    expect(text).toContain('export MLFLOW_TRACKING_URI=http://127.0.0.1:5001/p');
    expect(text).not.toContain('/metrics');
    const withMetrics = startupBanner(parse(['--port', '5001', '--expose-prometheus', 'x']), 5001).join('\n');
    expect(withMetrics).toContain('metrics:   http://127.0.0.1:5001/metrics (Prometheus)');
  });

  it('names a Postgres store without its password', () => {
    const cfg = parse(['--backend-store-uri', 'postgresql://u:secret@db:5432/x']);
    expect(keysCreateCommand(cfg)).toBe("node bin/cairn.js keys create --backend-store-uri 'postgresql://u:***@db:5432/x'");
    expect(startupBanner(cfg, 5000).join('\n')).not.toContain('secret');
  });

  it('names a custom embedded store by its URI', () => {
    const cfg = parse(['--backend-store-uri', 'pglite:///srv/my db']);
    expect(keysCreateCommand(cfg)).toBe("node bin/cairn.js keys create --backend-store-uri 'pglite:///srv/my db'");
  });
});
