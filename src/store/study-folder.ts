// A study folder, self-describing: a reader rebuilds the report from it alone.
//   study.json      the spec: the graph of jobs (kinds, inputs, dependencies), model labels, tables
//   jobs/           one record and one Parquet file of rows per finished job (jobs.ts)
//   runs/, tensors/, attacks/, datasets/   the jobs' files, each job in the folder named by its id
//   results.duckdb, results.csv            built from jobs/ at the end of each run
//   .lock           while a process runs the study
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { removeOrphanTemps } from "../util/atomic.js";
import { version } from "../util/version.js";
import { buildResults, duckdbVersion } from "./db.js";
import { type JobRecord, JobStore, type RowTags } from "./jobs.js";
import { firstDifference, readJson, writeJson } from "../util/json.js";
import { OptionError } from "../util/schema.js";
import { FolderInUse, FolderLock } from "./lock.js";
import type { Table } from "./tables.js";

export interface ModelEntry {
  /** Name in the database and folders, unique in the study (e.g. 'fc-deep-linear'). */
  key: string;
  label: string;
  /** Registry name and options (models/registry.ts). */
  name: string;
  options: Record<string, unknown>;
  /** Overrides of the model's paper training settings. */
  optim?: Record<string, unknown>;
  /** Panels of sweeps (α, kernel size) draw the models of a group together. */
  group?: string;
  /** Exactly linear: the end-to-end predictor β is measured. */
  linear: boolean;
}

/** One job of a study's graph: a registered kind, its inputs and the jobs it reads. */
export interface JobSpec {
  /** Unique in the study, and the folder (relative to the study) the job writes its files to. */
  id: string;
  kind: string;
  tags: RowTags;
  /** Plain JSON, checked by the kind. */
  inputs: Record<string, unknown>;
  /** The jobs whose outputs this one reads: role → id. */
  deps?: Record<string, string>;
}

export interface StudySpec {
  study: string;
  scale: string;
  description: string;
  /** Labels, groups and options of the models the rows name. */
  models: ModelEntry[];
  tables: Table[];
  /** The graph: every job, dependencies before dependents. Kinds may add jobs once theirs are done (a run's checkpoints). */
  jobs: JobSpec[];
}

export interface StudyFile {
  study: string;
  scale: string;
  description: string;
  created: string;
  versions: Record<string, string>;
  spec: StudySpec;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** A job id is a folder inside the study: a relative path of plain names (no '..', not jobs/). */
function checkJobId(id: unknown, where: string): string {
  if (typeof id !== "string" || !/^[A-Za-z0-9][\w.+=@-]*(\/[A-Za-z0-9][\w.+=@-]*)*$/.test(id) || id.split("/").includes("..") || id.split("/")[0] === "jobs") {
    throw new OptionError(`${where}.id: expected a relative folder path of names (letters, digits, . _ - + = @; not under jobs/), got ${JSON.stringify(id)}`);
  }
  return id;
}

/**
 * A study spec written by hand (advdyn study FILE.json): the graph is required, the presentation
 * optional. Each job's inputs are checked by its kind when the study runs.
 */
export function parseStudySpec(v: unknown, source: string): StudySpec {
  const bad = (what: string) => new OptionError(`${source}: ${what}`);
  if (!isObject(v)) throw bad("expected a JSON object { study, jobs: [...], models?, tables?, description?, scale? }");
  if (typeof v.study !== "string" || v.study === "") throw bad("study: expected the study's name");
  if (!Array.isArray(v.jobs) || v.jobs.length === 0) throw bad("jobs: expected a non-empty list of { id, kind, tags, inputs, deps? }");
  const jobs = v.jobs.map((j: unknown, i: number): JobSpec => {
    const where = `jobs[${i}]`;
    if (!isObject(j)) throw bad(`${where}: expected { id, kind, tags, inputs, deps? }`);
    const id = checkJobId(j.id, `${source}: ${where}`);
    if (typeof j.kind !== "string") throw bad(`${where}.kind: expected a job kind's name`);
    const t = j.tags;
    if (!isObject(t) || typeof t.dataset !== "string" || typeof t.model !== "string" || !Number.isSafeInteger(t.seed)) {
      throw bad(`${where}.tags: expected { dataset: string, model: string, seed: integer } (the rows' key columns)`);
    }
    if (!isObject(j.inputs)) throw bad(`${where}.inputs: expected an object`);
    if (j.deps !== undefined && !(isObject(j.deps) && Object.values(j.deps).every((d) => typeof d === "string"))) throw bad(`${where}.deps: expected { role: job id }`);
    return { id, kind: j.kind, tags: { dataset: t.dataset, model: t.model, seed: t.seed as number }, inputs: j.inputs, ...(j.deps ? { deps: j.deps as Record<string, string> } : {}) };
  });
  for (const [k, want] of [["models", "a list of { key, label, name, options, linear }"], ["tables", "a list of tables"]] as const) {
    if (v[k] !== undefined && !Array.isArray(v[k])) throw bad(`${k}: expected ${want}`);
  }
  return {
    study: v.study, scale: typeof v.scale === "string" ? v.scale : "custom", description: typeof v.description === "string" ? v.description : "",
    models: (v.models as ModelEntry[] | undefined) ?? [], tables: (v.tables as Table[] | undefined) ?? [], jobs,
  };
}

/**
 * Refuses a spec that changes what the folder's jobs were run with, naming the field. Jobs may be
 * added or left out (more seeds, fewer models: results come from the jobs of the current spec),
 * and a job may change when `continues` accepts it (a run trained for more epochs).
 */
function checkSameStudy(path: string, old: StudySpec, spec: StudySpec, continues?: (previous: JobSpec, next: JobSpec) => boolean): void {
  const refuse = (what: string, a: unknown, b: unknown) => new Error(`${path}: ${what} is ${JSON.stringify(a)} here, ${JSON.stringify(b)} in this command; ` +
    "this folder holds a study with other settings: choose a new --out or delete the folder");
  for (const k of ["study", "scale"] as const) if (old[k] !== spec[k]) throw refuse(k, old[k], spec[k]);
  const next = new Map(spec.jobs.map((j) => [j.id, j]));
  for (const j of old.jobs) {
    const n = next.get(j.id);
    const d = n && firstDifference(j, n);
    if (d && !continues?.(j, n)) throw refuse(`job ${j.id}: ${d.path}`, d.a, d.b);
  }
}

/** The lock for a moment (to check and write study.json), waiting a little for another enqueuer that holds it as briefly. */
async function briefly(dir: string): Promise<FolderLock> {
  for (let waited = 0; ; waited += 100) {
    try {
      return FolderLock.acquire(dir, "study folder");
    } catch (e) {
      if (!(e instanceof FolderInUse) || waited >= 5000) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export class StudyFolder {
  readonly store: JobStore;
  private constructor(readonly dir: string, private readonly lock: FolderLock | undefined, verify: boolean) {
    this.store = new JobStore(dir, { verify });
  }

  static paths(dir: string) {
    return { spec: join(dir, "study.json"), db: join(dir, "results.duckdb"), csv: join(dir, "results.csv") };
  }

  /**
   * Opens the folder for running `spec`: creates it, takes its lock (FolderInUse if another live
   * process has it), removes what killed writers left, and writes study.json, or checks that the
   * folder holds the same graph (a newer presentation, tables and labels, is taken over).
   * `verify`: jobs count as done only if every output has the SHA-256 it was written with.
   * `shared`: for a queued run (see above); the folder must still not be held by another process.
   */
  static async open(dir: string, spec: StudySpec, o: { verify?: boolean; continues?: (previous: JobSpec, next: JobSpec) => boolean; shared?: boolean } = {}): Promise<StudyFolder> {
    mkdirSync(dir, { recursive: true });
    const lock = await (o.shared ? briefly(dir) : FolderLock.acquire(dir, "study folder"));
    try {
      // Shared: queue workers, on this machine or others, write into the folder while it is open,
      // so it is not held and their temporary files are theirs (a retried job clears its own).
      if (!o.shared) removeOrphanTemps(dir);
      const path = StudyFolder.paths(dir).spec;
      const existing = readJson<StudyFile>(path);
      if (existing !== undefined) checkSameStudy(path, existing.spec, spec, o.continues);
      if (existing === undefined || JSON.stringify(existing.spec) !== JSON.stringify(spec)) {
        writeJson(path, {
          study: spec.study, scale: spec.scale, description: spec.description, created: existing?.created ?? new Date().toISOString(),
          versions: existing?.versions ?? { advdyn: version, node: process.version, duckdb: duckdbVersion }, spec,
        } satisfies StudyFile);
      }
      if (o.shared) lock.release();
      return new StudyFolder(dir, o.shared ? undefined : lock, o.verify ?? false);
    } catch (e) {
      lock.release();
      throw e;
    }
  }

  /** Rebuilds results.duckdb and results.csv from these jobs' records and rows. */
  async buildResults(study: string, records: readonly JobRecord[]): Promise<void> {
    const p = StudyFolder.paths(this.dir);
    await buildResults({ db: p.db, csv: p.csv, study, jobs: records, rowFiles: records.map((r) => this.store.rowsPath(r.key)) });
  }

  close(): void {
    this.lock?.release();
  }
}
