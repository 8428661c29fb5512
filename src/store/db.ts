// A study's results database: one embedded DuckDB file with a row per measured quantity.
//
// DuckDB rather than SQLite: @duckdb/node-api ships prebuilt binaries inside the npm package (a
// fresh `npm ci` needs no compiler and no download from GitHub, which better-sqlite3's prebuilds
// need and this project's CI machines cannot reach), and its columnar engine aggregates the
// per-example rows the report reads (mean ± std over thousands of examples) in SQL.
//
// Durability: a job's rows and its `jobs` entry are committed in one transaction, so after a
// crash a job is either wholly present or absent, and a rerun recomputes exactly the absent ones.
import { renameSync, rmSync } from "node:fs";
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from "@duckdb/node-api";

export interface JobRecord {
  /** Derived from every input of the job (see jobKey): same key, same result. */
  key: string;
  kind: string;
  dataset: string;
  model: string;
  seed: number;
  /** Checkpoint tag ('epoch-0003'), '' for jobs about a whole run. */
  checkpoint: string;
  spec: unknown;
  seconds: number;
}

export interface ResultRow {
  dataset: string;
  model: string;
  seed: number;
  checkpoint: string;
  epoch: number;
  iteration: number;
  /** The checkpoint the study's tables use. */
  final: boolean;
  /** Attack key ('pgd-linf', 'pgd-linf@final' for transfer), '' for quantities without an attack. */
  attack: string;
  quantity: string;
  /** Index along a curve (radial bin, singular value rank), else null. */
  bin: number | null;
  /** Index of the example in the attacked set, else null. */
  example: number | null;
  value: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (key VARCHAR PRIMARY KEY, kind VARCHAR, dataset VARCHAR, model VARCHAR, seed INTEGER,
  checkpoint VARCHAR, spec VARCHAR, seconds DOUBLE, finished VARCHAR);
CREATE TABLE IF NOT EXISTS results (study VARCHAR, job VARCHAR, dataset VARCHAR, model VARCHAR, seed INTEGER,
  checkpoint VARCHAR, epoch INTEGER, iteration INTEGER, final BOOLEAN, attack VARCHAR, quantity VARCHAR,
  bin INTEGER, example INTEGER, value DOUBLE);`;

/** Plain JS values of a query's rows (BIGINT counts become numbers, DECIMALs numbers). */
export type Row = Record<string, string | number | boolean | null>;

export class ResultsDb {
  private constructor(private readonly instance: DuckDBInstance, private readonly db: DuckDBConnection, readonly path: string, readonly study: string) {}

  /** Opens (creating if needed) the database of a study; `readOnly` lets a report read while nothing writes. */
  static async open(path: string, study: string, o: { readOnly?: boolean } = {}): Promise<ResultsDb> {
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, o.readOnly ? { access_mode: "READ_ONLY" } : {});
    } catch (e) {
      throw new Error(`${path}: cannot open the results database (${(e as Error).message})`);
    }
    const db = await instance.connect();
    if (!o.readOnly) await db.run(SCHEMA);
    return new ResultsDb(instance, db, path, study);
  }

  async jobKeys(): Promise<Set<string>> {
    return new Set((await this.query("SELECT key FROM jobs")).map((r) => String(r.key)));
  }

  /** Stores a finished job: its rows and its record, in one transaction (replacing any earlier rows of the key). */
  async commitJob(job: JobRecord, rows: readonly ResultRow[]): Promise<void> {
    await this.db.run("BEGIN TRANSACTION");
    try {
      await this.db.run("DELETE FROM results WHERE job = $1", [job.key]);
      await this.db.run("DELETE FROM jobs WHERE key = $1", [job.key]);
      const appender = await this.db.createAppender("results");
      for (const r of rows) {
        appender.appendVarchar(this.study);
        appender.appendVarchar(job.key);
        appender.appendVarchar(r.dataset);
        appender.appendVarchar(r.model);
        appender.appendInteger(r.seed);
        appender.appendVarchar(r.checkpoint);
        appender.appendInteger(r.epoch);
        appender.appendInteger(r.iteration);
        appender.appendBoolean(r.final);
        appender.appendVarchar(r.attack);
        appender.appendVarchar(r.quantity);
        if (r.bin === null) appender.appendNull(); else appender.appendInteger(r.bin);
        if (r.example === null) appender.appendNull(); else appender.appendInteger(r.example);
        appender.appendDouble(r.value);
        appender.endRow();
      }
      appender.flushSync();
      appender.closeSync();
      await this.db.run("INSERT INTO jobs VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", [
        job.key, job.kind, job.dataset, job.model, job.seed, job.checkpoint, JSON.stringify(job.spec), job.seconds, new Date().toISOString(),
      ]);
      await this.db.run("COMMIT");
    } catch (e) {
      await this.db.run("ROLLBACK");
      throw e;
    }
  }

  async query(sql: string, params: DuckDBValue[] = []): Promise<Row[]> {
    const reader = await this.db.runAndReadAll(sql, params);
    return reader.getRowObjectsJS().map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v as Row[string]])));
  }

  /** Writes the results table as CSV, atomically. */
  async exportCsv(path: string): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      await this.db.run(`COPY (SELECT * FROM results ORDER BY dataset, model, seed, iteration, attack, quantity, bin, example) TO '${tmp.replace(/'/g, "''")}' (HEADER, DELIMITER ',')`);
      renameSync(tmp, path);
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  close(): void {
    this.db.closeSync();
    this.instance.closeSync();
  }
}
