// `advdyn attack RUN`: attack-set jobs, one per chosen checkpoint, in a job store inside the run
// folder (RUN/attacks/<key>/), run by the same executor as studies: a rerun skips the checkpoints
// done, an interrupted one resumes, a damaged output is redone.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { TargetMode } from "../attacks/criteria.js";
import { type AttackRef, resolveAttack } from "../attacks/registry.js";
import type { Split } from "../data/index.js";
import type { Precision } from "../torch/index.js";
import { JobStore } from "../store/jobs.js";
import { FolderLock } from "../store/lock.js";
import type { CheckpointInfo, RunDir } from "../store/run.js";
import type { JobSpec } from "../store/study-folder.js";
import { removeOrphanTemps } from "../util/atomic.js";
import { readJson, writeJson } from "../util/json.js";
import { checkGraph, jobKey, runGraph } from "./graph.js";
import { type AttackSetInputs, type AttackSetSummary, jobKind } from "./kinds/index.js";

export interface AttackRunOptions {
  attack: AttackRef;
  examples: number;
  split: Split;
  targets: TargetMode;
  seed: number;
  batchSize: number;
  /** Default: the run's. */
  precision?: Precision;
  dataDir?: string;
  progress?: boolean;
}

/** The folder name of an attack configuration: readable, and unique through a hash of everything that sets its results. */
export function attackKey(o: AttackRunOptions): string {
  const r = resolveAttack(o.attack);
  const eps = (Array.isArray(r.eps) ? r.eps : [r.eps]).map((e) => (e === null ? "min" : String(+e.toPrecision(4)))).join("_");
  return `${r.attack}-${r.norm}-eps${eps}-${jobKey({ attack: r, examples: o.examples, split: o.split, targets: o.targets, seed: o.seed, batchSize: o.batchSize, ...(o.precision ? { precision: o.precision } : {}) }).slice(0, 8)}`;
}

/** Attacks the checkpoints; returns each one's summary (also in RUN/attacks/<key>/<checkpoint>/summary.json). */
export async function attackCheckpoints(run: RunDir, checkpoints: readonly CheckpointInfo[], o: AttackRunOptions): Promise<{ key: string; dir: string; summaries: AttackSetSummary[] }> {
  const key = attackKey(o);
  const dir = join(run.path, "attacks", key);
  const jobs: JobSpec[] = checkpoints.map((c) => {
    const inputs: AttackSetInputs = {
      key: `${o.attack.attack}-${o.attack.norm}`, attack: o.attack, checkpoint: c.file, split: o.split, examples: o.examples,
      batchSize: o.batchSize, targets: o.targets, seed: o.seed, run: "../..", ...(o.precision ? { precision: o.precision } : {}),
    };
    return { id: c.file.replace(/\.safetensors$/, ""), kind: "attack-set", tags: { dataset: "", model: "", seed: o.seed }, inputs: { ...inputs } };
  });
  // Refused before anything is written.
  checkGraph(jobs, jobKind);
  mkdirSync(dir, { recursive: true });
  const lock = FolderLock.acquire(dir, "attack folder");
  try {
    removeOrphanTemps(dir);
    writeJson(join(dir, "attack.json"), { key, attack: resolveAttack(o.attack), examples: o.examples, split: o.split, targets: o.targets, seed: o.seed, batchSize: o.batchSize });
    await runGraph(jobs, jobKind, new JobStore(dir), { root: dir, dataDir: o.dataDir, progress: o.progress ?? true, log: () => {} });
    return { key, dir, summaries: jobs.map((j) => readJson<AttackSetSummary>(join(dir, j.id, "summary.json"))!) };
  } finally {
    lock.release();
  }
}
