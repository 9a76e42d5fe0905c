import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import pg from 'pg';
import initSqlJs from 'sql.js';
import { SourceError } from './source.js';

export type Row = Record<string, unknown>;

/** A read-only connection to an MLflow database; queries use `?` placeholders on either engine. */
export interface SqlReader {
  readonly engine: 'sqlite' | 'postgresql';
  all(text: string, params?: unknown[]): Promise<Row[]>;
  hasTable(name: string): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * SQLite through sql.js (SQLite compiled to WebAssembly): no native build on Node 20, which has no
 * node:sqlite, and it is SQLite's own code rather than a re-implementation of the file format. Its
 * cost: the database file is read into memory whole, so memory grows with the file (not with what
 * is imported, which is still read in pages).
 */
export async function openSqlite(uri: string): Promise<SqlReader> {
  // sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy (and so MLflow) spells them.
  const file = resolve(uri.replace(/^sqlite:\/\/\//, ''));
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new SourceError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const SQL = await initSqlJs();
  let db: import('sql.js').Database;
  try {
    db = new SQL.Database(bytes);
    db.exec('select count(*) from sqlite_master');
  } catch (err) {
    throw new SourceError(`${file} is not an SQLite database: ${(err as Error).message}`);
  }
  const all = async (text: string, params: unknown[] = []) => {
    const stmt = db.prepare(text);
    try {
      stmt.bind(params.map((p) => (typeof p === 'boolean' ? Number(p) : p)) as import('sql.js').BindParams);
      const out: Row[] = [];
      while (stmt.step()) out.push(stmt.getAsObject());
      return out;
    } finally {
      stmt.free();
    }
  };
  return {
    engine: 'sqlite',
    all,
    hasTable: async (name) => (await all(`select 1 from sqlite_master where type = 'table' and name = ?`, [name])).length > 0,
    close: async () => db.close(),
  };
}

export async function openPostgres(uri: string): Promise<SqlReader> {
  // SQLAlchemy driver suffixes (postgresql+psycopg2://) name a Python driver; the URL is the same.
  const client = new pg.Client({ connectionString: uri.replace(/^postgres(ql)?\+\w+:/, 'postgresql:') });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    const u = new URL(uri.replace(/^[^:]+:/, 'postgresql:'));
    throw new SourceError(`cannot connect to ${u.host}${u.pathname}: ${(err as Error).message}`);
  }
  const all = async (text: string, params: unknown[] = []) => {
    let n = 0;
    return (await client.query(text.replace(/\?/g, () => `$${++n}`), params)).rows as Row[];
  };
  return {
    engine: 'postgresql',
    all,
    hasTable: async (name) => (await all(`select 1 from information_schema.tables where table_schema = current_schema() and table_name = ?`, [name])).length > 0,
    close: () => client.end(),
  };
}
