import pg from 'pg';

/**
 * Drops a test's database once its users have closed. Not `WITH (FORCE)`: CI's role is not a
 * superuser, and force refuses to end an autovacuum worker that happens to be in the database (it
 * belongs to no role). This ends the role's own leftover sessions, then drops, which stops
 * autovacuum by itself; a session still closing is waited for.
 */
export async function dropDatabase(server: string, name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and usename = current_user and pid <> pg_backend_pid()',
        [name],
      );
      await client.query(`DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}"`);
      return;
    } catch (err) {
      // 55006: object_in_use, a session that has not finished closing yet.
      if ((err as { code?: string }).code !== '55006' || attempt >= 39) throw err;
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await client.end();
    }
  }
}
