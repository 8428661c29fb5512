// A study's results: one row per measured quantity. Each job writes its own rows to a Parquet file
// (jobs.ts), so no process has to hold a database open while jobs run, wherever they run; the
// study's results.duckdb and results.csv are then built from those files in one step.
//
// DuckDB rather than SQLite: @duckdb/node-api ships prebuilt binaries inside the npm package (a
// fresh `npm ci` needs no compiler and no download from GitHub, which better-sqlite3's prebuilds
// need and this project's CI machines cannot reach), it writes and reads Parquet itself, and its
// columnar engine aggregates the per-example rows the report reads (mean ± std over thousands of
// examples) in SQL.
import { existsSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import type { DuckDBConnection, DuckDBInstance, DuckDBValue } from "@duckdb/node-api";
import { tempPath } from "../util/atomic.js";

export interface ResultRow {
  dataset: string;
  model: string;
  seed: number;
  checkpoint: string;
  epoch: number;
  iteration: number;
  /** The checkpoint the study's tables use: the trained epoch with the best test accuracy. */
  best: boolean;
  /** Attack key ('pgd-linf', 'pgd-linf@best' for transfer), '' for quantities without an attack. */
  attack: string;
  quantity: string;
  /** Index along a curve (radial bin, singular value rank, ε of several), else null. */
  bin: number | null;
  /** Index of the example in the attacked set, else null. */
  example: number | null;
  value: number;
}

/** A finished job as the `jobs` table lists it. */
export interface JobRow {
  key: string;
  kind: string;
  id: string;
  inputs: unknown;
  deps: Record<string, string>;
  info: Record<string, unknown>;
  rows: number;
  seconds: number;
  finished: string;
}

const RESULT_COLUMNS = `job VARCHAR, dataset VARCHAR, model VARCHAR, seed INTEGER, checkpoint VARCHAR, epoch INTEGER, iteration INTEGER,
  best BOOLEAN, attack VARCHAR, quantity VARCHAR, bin INTEGER, example INTEGER, value DOUBLE`;
const ORDER = "dataset, model, seed, iteration, epoch, checkpoint, attack, quantity, bin, example";

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Plain JS values of a query's rows (BIGINT counts become numbers, DECIMALs numbers). */
export type Row = Record<string, string | number | boolean | null>;

async function readAll(db: DuckDBConnection, sql: string, params: DuckDBValue[] = []): Promise<Row[]> {
  const reader = await db.runAndReadAll(sql, params);
  return reader.getRowObjectsJS().map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v as Row[string]])));
}

/** The engine, loaded on first use (it takes a third of a second, which commands that store nothing should not pay). */
export const duckdb = () => import("@duckdb/node-api");
/** The engine's version, without loading it. */
export const duckdbVersion: string = (createRequire(import.meta.url)("@duckdb/node-api/package.json") as { version: string }).version;

/** ADVDYN_NUM_THREADS bounds the engine's threads too (one-thread queue workers side by side). */
const threads = (): Record<string, string> => (process.env.ADVDYN_NUM_THREADS ? { threads: process.env.ADVDYN_NUM_THREADS } : {});

let scratch: Promise<DuckDBConnection> | undefined;
/** An in-memory database of this process, for writing Parquet files. */
const scratchDb = () => (scratch ??= duckdb().then((d) => d.DuckDBInstance.create(":memory:", threads())).then((i) => i.connect()));

/** Writes a job's rows to a Parquet file, atomically (a temporary file renamed into place). */
export async function writeRowsFile(path: string, job: string, rows: readonly ResultRow[]): Promise<void> {
  const db = await scratchDb();
  const table = `rows_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const tmp = tempPath(path);
  await db.run(`CREATE TABLE ${table} (${RESULT_COLUMNS})`);
  try {
    const appender = await db.createAppender(table);
    for (const r of rows) {
      appender.appendVarchar(job);
      appender.appendVarchar(r.dataset);
      appender.appendVarchar(r.model);
      appender.appendInteger(r.seed);
      appender.appendVarchar(r.checkpoint);
      appender.appendInteger(r.epoch);
      appender.appendInteger(r.iteration);
      appender.appendBoolean(r.best);
      appender.appendVarchar(r.attack);
      appender.appendVarchar(r.quantity);
      if (r.bin === null) appender.appendNull(); else appender.appendInteger(r.bin);
      if (r.example === null) appender.appendNull(); else appender.appendInteger(r.example);
      appender.appendDouble(r.value);
      appender.endRow();
    }
    appender.flushSync();
    appender.closeSync();
    await db.run(`COPY ${table} TO ${sqlString(tmp)} (FORMAT parquet)`);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
    await db.run(`DROP TABLE ${table}`);
  }
}

/**
 * Builds a study's results.duckdb (tables `results` and `jobs`) and results.csv from its jobs'
 * Parquet files, each atomically: readers see the old files or the new ones.
 */
export async function buildResults(o: { db: string; csv: string; study: string; jobs: readonly JobRow[]; rowFiles: readonly string[] }): Promise<void> {
  const tmp = tempPath(o.db);
  const csvTmp = tempPath(o.csv);
  const instance = await (await duckdb()).DuckDBInstance.create(tmp, threads());
  try {
    const db = await instance.connect();
    try {
      await db.run(`CREATE TABLE results (study VARCHAR, ${RESULT_COLUMNS})`);
      if (o.rowFiles.length > 0) {
        await db.run(`INSERT INTO results SELECT ${sqlString(o.study)}, * FROM read_parquet([${o.rowFiles.map(sqlString).join(", ")}]) ORDER BY ${ORDER}`);
      }
      await db.run(`CREATE TABLE jobs (key VARCHAR PRIMARY KEY, kind VARCHAR, id VARCHAR, inputs VARCHAR, deps VARCHAR, info VARCHAR, rows INTEGER, seconds DOUBLE, finished VARCHAR)`);
      const appender = await db.createAppender("jobs");
      for (const j of o.jobs) {
        appender.appendVarchar(j.key);
        appender.appendVarchar(j.kind);
        appender.appendVarchar(j.id);
        appender.appendVarchar(JSON.stringify(j.inputs));
        appender.appendVarchar(JSON.stringify(j.deps));
        appender.appendVarchar(JSON.stringify(j.info));
        appender.appendInteger(j.rows);
        appender.appendDouble(j.seconds);
        appender.appendVarchar(j.finished);
        appender.endRow();
      }
      appender.flushSync();
      appender.closeSync();
      await db.run(`COPY (SELECT * FROM results ORDER BY ${ORDER}) TO ${sqlString(csvTmp)} (HEADER, DELIMITER ',')`);
      await db.run("CHECKPOINT");
    } finally {
      db.closeSync();
    }
    instance.closeSync();
    renameSync(csvTmp, o.csv);
    renameSync(tmp, o.db);
  } catch (e) {
    instance.closeSync();
    throw e;
  } finally {
    for (const p of [tmp, `${tmp}.wal`, csvTmp]) rmSync(p, { force: true });
  }
}

/** A study's results database, opened for queries. */
export class ResultsDb {
  private constructor(private readonly instance: DuckDBInstance, private readonly db: DuckDBConnection, readonly path: string) {}

  /** Opens a results database read-only; a missing or broken file is an error naming it. */
  static async open(path: string): Promise<ResultsDb> {
    if (!existsSync(path)) throw new Error(`${path}: missing; the study has no results database yet`);
    let instance: DuckDBInstance;
    try {
      instance = await (await duckdb()).DuckDBInstance.create(path, { access_mode: "READ_ONLY" });
    } catch (e) {
      throw new Error(`${path}: cannot open the results database (${(e as Error).message})`);
    }
    return new ResultsDb(instance, await instance.connect(), path);
  }

  query(sql: string, params: DuckDBValue[] = []): Promise<Row[]> {
    return readAll(this.db, sql, params);
  }

  close(): void {
    this.db.closeSync();
    this.instance.closeSync();
  }
}
