// Usage: node scripts/fresh-database.mjs <postgres-url> <suffix>
// Drops and creates the database "<name of the url's database>_<suffix>" on the same server and prints
// its URL. scripts/test.sh gives its second lane a database of its own this way, so suites that run
// side by side never see each other's rows.
import pg from 'pg';

const [url, suffix] = process.argv.slice(2);
if (!url || !suffix || !/^[a-z0-9_]+$/.test(suffix)) {
  console.error('usage: node scripts/fresh-database.mjs <postgres-url> <suffix [a-z0-9_]>');
  process.exit(2);
}
const target = new URL(url);
const base = decodeURIComponent(target.pathname.slice(1)) || 'postgres';
const name = `${base}_${suffix}`.slice(0, 63);
const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  const quoted = `"${name.replaceAll('"', '""')}"`;
  // Not WITH (FORCE): a role that is not a superuser (CI's) may not end an autovacuum worker in it.
  await client.query(
    'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and usename = current_user and pid <> pg_backend_pid()',
    [name],
  );
  await client.query(`DROP DATABASE IF EXISTS ${quoted}`);
  await client.query(`CREATE DATABASE ${quoted}`);
} finally {
  await client.end();
}
target.pathname = `/${encodeURIComponent(name)}`;
console.log(target.toString());
