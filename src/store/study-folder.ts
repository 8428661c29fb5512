// A study folder, self-describing: a reader rebuilds the report from it alone.
//   study.json      the spec: the graph of jobs (kinds, inputs, dependencies), model labels, tables
//   jobs/           one record and one Parquet file of rows per finished job (jobs.ts)
//   runs/, tensors/, attacks/, datasets/   the jobs' files, each job in the folder named by its id
//   results.duckdb, results.csv            built from jobs/ at the end of each run
//   .lock           while a process runs the study
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { version as duckdbVersion } from "@duckdb/node-api";
import { removeOrphanTemps } from "../util/atomic.js";
import { version } from "../util/version.js";
import { buildResults } from "./db.js";
import { type JobRecord, JobStore, type RowTags } from "./jobs.js";
import { firstDifference, readJson, writeJson } from "../util/json.js";
import { OptionError } from "../util/schema.js";
import { FolderLock } from "./lock.js";
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

export class StudyFolder {
  readonly store: JobStore;
  private constructor(readonly dir: string, private readonly lock: FolderLock) {
    this.store = new JobStore(dir);
  }

  static paths(dir: string) {
    return { spec: join(dir, "study.json"), db: join(dir, "results.duckdb"), csv: join(dir, "results.csv") };
  }

  /**
   * Opens the folder for running `spec`: creates it, takes its lock (FolderInUse if another live
   * process has it), removes what killed writers left, and writes study.json, or checks that the
   * folder holds the same graph (a newer presentation, tables and labels, is taken over).
   */
  static open(dir: string, spec: StudySpec): StudyFolder {
    mkdirSync(dir, { recursive: true });
    const lock = FolderLock.acquire(dir, "study folder");
    try {
      removeOrphanTemps(dir);
      const path = StudyFolder.paths(dir).spec;
      const existing = readJson<StudyFile>(path);
      if (existing !== undefined) {
        const measured = (s: StudySpec) => ({ study: s.study, scale: s.scale, jobs: s.jobs });
        const d = firstDifference(measured(existing.spec), measured(spec));
        if (d) {
          throw new Error(`${path}: ${d.path} is ${JSON.stringify(d.a)} here, ${JSON.stringify(d.b)} in this command; ` +
            "this folder holds a study with other settings: choose a new --out or delete the folder");
        }
      }
      if (existing === undefined || JSON.stringify(existing.spec) !== JSON.stringify(spec)) {
        writeJson(path, {
          study: spec.study, scale: spec.scale, description: spec.description, created: existing?.created ?? new Date().toISOString(),
          versions: existing?.versions ?? { advdyn: version, node: process.version, duckdb: duckdbVersion() }, spec,
        } satisfies StudyFile);
      }
      return new StudyFolder(dir, lock);
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
    this.lock.release();
  }
}
