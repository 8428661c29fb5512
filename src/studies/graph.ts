// Runs a graph of typed jobs. Each job's key is a hash of its kind, tags, inputs, the keys of the
// jobs it depends on and the identity of the data it reads; a job runs only once its dependencies
// are done, and is skipped when the store already holds it intact. So a rerun recomputes nothing,
// an interrupted run redoes only the absent jobs, and any changed input makes a new job.
//
// Some jobs are templates that a kind expands once their dependencies are done (a run's
// checkpoints are known only after training): the executor expands them, then runs what they
// became.
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { ResultRow } from "../store/db.js";
import type { JobRecord, JobStore } from "../store/jobs.js";
import type { JobSpec } from "../store/study-folder.js";
import { checkInterrupt } from "../torch/index.js";
import { OptionError } from "../util/schema.js";

/** A short stable hash of a job's inputs (canonical JSON: keys sorted). */
export function jobKey(inputs: unknown): string {
  const canonical = (v: unknown): unknown =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
      : Array.isArray(v) ? v.map(canonical) : v;
  return createHash("sha256").update(JSON.stringify(canonical(inputs))).digest("hex").slice(0, 20);
}

/** Where and how jobs run (the same for every job of a run). */
export interface RunEnv {
  /** The study folder: job ids are folders under it. */
  root: string;
  dataDir?: string;
  device?: "cpu" | "cuda";
  /** Progress bars on stderr. */
  progress: boolean;
  log: (line: string) => void;
}

/** A finished dependency, as a job reads it. */
export interface Dependency {
  spec: JobSpec;
  record: JobRecord;
  /** Its folder (absolute). */
  dir: string;
}

export interface JobContext extends RunEnv {
  spec: JobSpec;
  key: string;
  /** This job's folder (absolute); created by the job if it writes files. */
  dir: string;
  deps: Readonly<Record<string, Dependency>>;
}

export interface JobResult {
  rows: ResultRow[];
  /** Files written, relative to the root (checked at every later run: a damaged one redoes the job). */
  files: string[];
  /** Facts dependants read from the record (a diverged run, the checkpoint measured…). */
  info?: Record<string, unknown>;
}

export interface JobKind {
  readonly name: string;
  /** One line for logs and docs. */
  readonly summary: string;
  /** Refuses inputs or dependency roles it cannot run (an error naming the field and what is allowed). */
  check(spec: JobSpec): void;
  /** Beyond the inputs, what the result depends on: the identity of data read from outside the study. */
  identity?(spec: JobSpec, env: RunEnv): unknown;
  /**
   * Whether `next` continues `previous` (same id, other inputs) so that a study folder may take it
   * over: what `previous` wrote stays valid and only more work runs (a run trained for more epochs).
   */
  continues?(previous: JobSpec, next: JobSpec): boolean;
  /** Whether the spec is a template, which expand() replaces by jobs instead of running. */
  isTemplate?(spec: JobSpec): boolean;
  /** The jobs a template stands for, given its finished dependencies. */
  expand?(spec: JobSpec, deps: Readonly<Record<string, Dependency>>): JobSpec[];
  run(ctx: JobContext): Promise<JobResult> | JobResult;
}

export interface GraphResult {
  ran: number;
  skipped: number;
  /** The records of every job of the graph, in graph order. */
  records: JobRecord[];
}

/**
 * Refuses a graph that cannot run, before anything is written: an unknown kind, inputs a kind
 * refuses, a repeated id, or a dependency that is not listed before its dependant.
 */
export function checkGraph(jobs: readonly JobSpec[], kinds: (name: string) => JobKind): void {
  const seen = new Set<string>();
  for (const j of jobs) {
    kinds(j.kind).check(j);
    for (const [role, id] of Object.entries(j.deps ?? {})) {
      if (!seen.has(id)) throw new OptionError(`job '${j.id}' depends on '${id}' (${role}), which is not listed before it in the graph`);
    }
    if (seen.has(j.id)) throw new OptionError(`job id '${j.id}' appears twice in the graph`);
    seen.add(j.id);
  }
}

/**
 * A study's graph over its job store: keys, the dependencies a job can read, the templates that
 * can be expanded, the jobs ready to run. The in-process executor, the queue's enqueuer and its
 * workers all see a study through it, so they agree on every key.
 */
export class Graph {
  readonly #byId = new Map<string, JobSpec>();
  readonly #keys = new Map<string, string>();
  #order: JobSpec[];

  constructor(jobs: readonly JobSpec[], readonly kinds: (name: string) => JobKind, readonly store: JobStore, readonly env: RunEnv) {
    checkGraph(jobs, kinds);
    for (const j of jobs) this.#byId.set(j.id, j);
    this.#order = [...jobs];
  }

  /** Every job, templates not yet expanded included, dependencies first. */
  get jobs(): readonly JobSpec[] {
    return this.#order;
  }

  job(id: string): JobSpec | undefined {
    return this.#byId.get(id);
  }

  keyOf(j: JobSpec): string {
    let k = this.#keys.get(j.id);
    if (k === undefined) {
      const deps = Object.fromEntries(Object.entries(j.deps ?? {}).map(([role, id]) => [role, this.keyOf(this.#dependency(j, id))]));
      k = jobKey({ kind: j.kind, tags: j.tags, inputs: j.inputs, deps, identity: this.kinds(j.kind).identity?.(j, this.env) ?? null });
      this.#keys.set(j.id, k);
    }
    return k;
  }

  #dependency(j: JobSpec, id: string): JobSpec {
    const d = this.#byId.get(id);
    if (!d) throw new Error(`job '${j.id}' depends on '${id}', which is not in the graph`);
    return d;
  }

  isTemplate(j: JobSpec): boolean {
    return this.kinds(j.kind).isTemplate?.(j) ?? false;
  }

  /** The record of a finished job, undefined otherwise. */
  done(j: JobSpec): JobRecord | undefined {
    return this.isTemplate(j) ? undefined : this.store.done(this.keyOf(j));
  }

  /** A job's dependencies by role, once all are done. */
  finishedDeps(j: JobSpec): Record<string, Dependency> | undefined {
    const out: Record<string, Dependency> = {};
    for (const [role, id] of Object.entries(j.deps ?? {})) {
      const d = this.#dependency(j, id);
      const record = this.done(d);
      if (!record) return undefined;
      out[role] = { spec: d, record, dir: join(this.env.root, d.id) };
    }
    return out;
  }

  /** Expands every template whose dependencies are done (an expansion may hold templates too). */
  expand(): void {
    for (let changed = true; changed;) {
      changed = false;
      this.#order = this.#order.flatMap((j) => {
        const deps = this.isTemplate(j) ? this.finishedDeps(j) : undefined;
        if (!deps) return [j];
        const expanded = this.kinds(j.kind).expand!(j, deps);
        this.#byId.delete(j.id);
        for (const e of expanded) {
          this.kinds(e.kind).check(e);
          if (this.#byId.has(e.id)) throw new Error(`job id '${e.id}' appears twice in the graph`);
          this.#byId.set(e.id, e);
        }
        changed = true;
        return expanded;
      });
    }
  }

  /** Jobs not done whose dependencies are (after expand()), in graph order. */
  ready(): JobSpec[] {
    return this.#order.filter((j) => !this.isTemplate(j) && this.done(j) === undefined && this.finishedDeps(j) !== undefined);
  }

  /** Jobs (and templates) not done yet. */
  pending(): JobSpec[] {
    return this.#order.filter((j) => this.done(j) === undefined);
  }

  /** Runs a job whose dependencies are done and commits it. */
  async run(j: JobSpec): Promise<JobRecord> {
    const key = this.keyOf(j);
    const deps = this.finishedDeps(j);
    if (!deps) throw new Error(`job '${j.id}': a dependency is not done`);
    this.env.log(`${j.kind} ${j.id}`);
    const began = performance.now();
    const result = await this.kinds(j.kind).run({ ...this.env, spec: j, key, dir: join(this.env.root, j.id), deps });
    return this.store.commit({
      key, kind: j.kind, id: j.id, tags: j.tags, inputs: j.inputs,
      deps: Object.fromEntries(Object.entries(deps).map(([role, d]) => [role, d.record.key])),
      info: result.info ?? {}, seconds: (performance.now() - began) / 1000,
    }, result.files, result.rows);
  }
}

/**
 * Executes `jobs` (dependencies listed before dependants) in order, one at a time, skipping those
 * the store holds. Throws the first job error (the jobs done so far stay committed).
 */
export async function runGraph(jobs: readonly JobSpec[], kinds: (name: string) => JobKind, store: JobStore, env: RunEnv): Promise<GraphResult> {
  const g = new Graph(jobs, kinds, store, env);
  let ran = 0;
  for (;;) {
    g.expand();
    const next = g.ready()[0];
    if (!next) break;
    checkInterrupt();
    await g.run(next);
    ran++;
  }
  const waiting = g.pending();
  if (waiting.length > 0) throw new Error(`jobs that cannot run (a dependency is missing): ${waiting.map((j) => j.id).join(", ")}`);
  const records = g.jobs.map((j) => g.done(j)!);
  return { ran, skipped: records.length - ran, records };
}
