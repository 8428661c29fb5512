// Runs a study: opens its folder (one process at a time), executes its job graph (skipping the
// jobs the folder already holds intact), builds results.duckdb and results.csv from the jobs'
// rows, and computes its tables.
import { ResultsDb } from "../store/db.js";
import { StudyFolder, type StudySpec } from "../store/study-folder.js";
import { type Cell, type Table, tableCells } from "../store/tables.js";
import { resolve } from "node:path";
import { checkGraph, runGraph } from "./graph.js";
import { jobKind } from "./kinds/index.js";
import { type EnqueueOptions, runOnQueue } from "./queue.js";

export interface RunStudyOptions {
  dataDir?: string;
  device?: "cpu" | "cuda";
  /** Progress bars on stderr (default true). */
  progress?: boolean;
  /** One line per job (default: none). */
  log?: (line: string) => void;
  /** Check every output's SHA-256 (not only its size); damaged jobs are redone. */
  verify?: boolean;
  /** Run the jobs through workers on this BullMQ queue instead of in this process. */
  queue?: EnqueueOptions;
}

export interface StudyResult {
  out: string;
  jobs: { ran: number; skipped: number; damaged: { id: string; problem: string }[] };
  tables: { table: Table; cells: (Cell | null)[][] }[];
}

/**
 * Runs a study in this process, or (with `queue`) through workers on a BullMQ queue; either way
 * the same jobs, keys, files and results.
 */
export async function runStudy(spec: StudySpec, out: string, o: RunStudyOptions = {}): Promise<StudyResult> {
  checkGraph(spec.jobs, jobKind);
  const folder = await StudyFolder.open(out, spec, {
    verify: o.verify, shared: o.queue !== undefined,
    continues: (p, n) => p.kind === n.kind && (jobKind(n.kind).continues?.(p, n) ?? false),
  });
  const log = o.log ?? (() => {});
  const env = { root: o.queue ? resolve(out) : out, dataDir: o.dataDir, device: o.device, progress: o.progress ?? true, log };
  try {
    const g = o.queue ? await runOnQueue(spec.jobs, folder.store, env, o.queue) : await runGraph(spec.jobs, jobKind, folder.store, env);
    for (const d of folder.store.damaged) log(`redone: ${d.id} (${d.problem})`);
    await folder.buildResults(spec.study, g.records);
    if ("failed" in g && g.failed.size > 0) {
      throw new Error(`${g.failed.size} job(s) failed: ${[...g.failed].map(([id, why]) => `${id}: ${why}`).join("; ")}` +
        `${g.blocked.length ? `; not run because of them: ${g.blocked.join(", ")}` : ""}. Every other job is done; rerun the same command to retry them`);
    }
    const db = await ResultsDb.open(StudyFolder.paths(out).db);
    try {
      const tables = [];
      for (const table of spec.tables) tables.push({ table, cells: await tableCells(db, table) });
      return { out, jobs: { ran: g.ran, skipped: g.records.length - g.ran, damaged: folder.store.damaged }, tables };
    } finally {
      db.close();
    }
  } finally {
    folder.close();
  }
}
