// Where finished jobs are recorded. A job's outputs are files under the store's root (written
// atomically by the job), its result rows a Parquet file, and its commit a JSON record written
// last, listing every output with its size. So a job is wholly present (record there, outputs
// intact) or absent: a crash before the record leaves an absent job to redo, and an output
// damaged later (truncated, deleted) makes the job absent again.
//   <root>/jobs/<key>.json      the record
//   <root>/jobs/<key>.parquet   its result rows
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { type JobRow, type ResultRow, writeRowsFile } from "./db.js";
import { sha256File } from "../util/hash.js";
import { readJson, writeJson } from "../util/json.js";
import { version } from "../util/version.js";

/** Which dataset, model and seed a job's rows are about (the rows' key columns). */
export interface RowTags {
  dataset: string;
  model: string;
  seed: number;
}

export interface JobRecord extends JobRow {
  tags: RowTags;
  /** Files the job wrote, relative to the root, with their sizes and SHA-256 at commit (the rows file included). */
  outputs: { path: string; bytes: number; sha256: string }[];
  /** advdyn's version that ran it. */
  version: string;
}

/** What a job hands to commit: its record without what the store fills in. */
export type JobCommit = Omit<JobRecord, "outputs" | "rows" | "finished" | "version">;

/** Every file under `dir`, as paths relative to `root`, sorted. */
export function filesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(relative(root, p));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

export class JobStore {
  readonly #verified = new Map<string, JobRecord>();
  /** Jobs found damaged so far (they count as not done), with what is wrong. */
  readonly damaged: { id: string; problem: string }[] = [];
  /**
   * `verify`: check every output's SHA-256, not only its size (reads every file once per process,
   * for `advdyn study --verify`).
   */
  constructor(readonly root: string, private readonly o: { verify?: boolean } = {}) {}

  get dir(): string {
    return join(this.root, "jobs");
  }
  recordPath(key: string): string {
    return join(this.dir, `${key}.json`);
  }
  rowsPath(key: string): string {
    return join(this.dir, `${key}.parquet`);
  }

  /** The first output of a record that is missing, or has another size (or, verifying, content) than at commit, in words. */
  damage(record: JobRecord): string | undefined {
    for (const o of record.outputs) {
      const path = join(this.root, o.path);
      let bytes: number;
      try {
        bytes = statSync(path).size;
      } catch {
        return `${o.path} is missing`;
      }
      if (bytes !== o.bytes) return `${o.path} has ${bytes} bytes, ${o.bytes} when written`;
      if (this.o.verify && sha256File(path) !== o.sha256) return `${o.path} has another SHA-256 than when written`;
    }
    return undefined;
  }

  /** The record of a finished job whose outputs are intact; undefined when the job is to be (re)done. */
  done(key: string): JobRecord | undefined {
    const known = this.#verified.get(key);
    if (known) return known;
    const record = readJson<JobRecord>(this.recordPath(key));
    if (record === undefined) return undefined;
    const problem = this.damage(record);
    if (problem !== undefined) {
      if (!this.damaged.some((d) => d.id === record.id)) this.damaged.push({ id: record.id, problem });
      return undefined;
    }
    this.#verified.set(key, record);
    return record;
  }

  /**
   * Commits a job: writes its rows, then its record listing `files` (relative to the root, already
   * written) and the rows file with their sizes. After this the job is done.
   */
  async commit(job: JobCommit, files: readonly string[], rows: readonly ResultRow[]): Promise<JobRecord> {
    mkdirSync(this.dir, { recursive: true });
    await writeRowsFile(this.rowsPath(job.key), job.key, rows);
    const outputs = [...files, relative(this.root, this.rowsPath(job.key))].map((path) => ({
      path, bytes: statSync(join(this.root, path)).size, sha256: sha256File(join(this.root, path)),
    }));
    const record: JobRecord = { ...job, outputs, rows: rows.length, finished: new Date().toISOString(), version };
    writeJson(this.recordPath(job.key), record);
    this.#verified.set(job.key, record);
    return record;
  }
}
