// Runs a study: expands its spec into jobs (train each dataset × model × seed, then measure its
// checkpoints), skips the jobs the database already holds, and stores each finished job's rows
// in one transaction. Every job is keyed by a hash of all its inputs, so a rerun recomputes
// nothing, an interrupted study resumes (training resumes from its last epoch), and a changed
// setting makes a new job instead of mixing old and new results.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { version as duckdbVersion } from "@duckdb/node-api";
import { type ResultRow, ResultsDb } from "../store/db.js";
import { readJson, writeJson } from "../store/json.js";
import { type CheckpointInfo, RunDir } from "../store/run.js";
import { type Cell, type Table, tableCells } from "../store/tables.js";
import * as torch from "../torch/index.js";
import { type RunConfig, trainRun } from "../train/run.js";
import { TrainingDiverged } from "../train/trainer.js";
import { Progress } from "../util/progress.js";
import { finalPerturbations, measureCheckpoint } from "./measure.js";
import { loadCheckpointModel, loadExamples, readRunConfig } from "./run-model.js";
import type { DatasetEntry, ModelEntry, StudySpec } from "./spec.js";

/** A short stable hash of a job's inputs (canonical JSON: keys sorted). */
export function jobKey(inputs: unknown): string {
  const canonical = (v: unknown): unknown =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
      : Array.isArray(v) ? v.map(canonical) : v;
  return createHash("sha256").update(JSON.stringify(canonical(inputs))).digest("hex").slice(0, 20);
}

export interface StudyFile {
  study: string;
  scale: string;
  description: string;
  created: string;
  versions: Record<string, string>;
  spec: StudySpec;
}

export interface RunStudyOptions {
  dataDir?: string;
  device?: "cpu" | "cuda";
  /** Progress bars on stderr (default true). */
  progress?: boolean;
  /** One line per job (default: none). */
  log?: (line: string) => void;
}

export interface StudyResult {
  out: string;
  jobs: { ran: number; skipped: number };
  tables: { table: Table; cells: (Cell | null)[][] }[];
}

export const studyPaths = (out: string) => ({
  spec: join(out, "study.json"),
  db: join(out, "results.duckdb"),
  csv: join(out, "results.csv"),
  run: (dataset: string, model: string, seed: number) => join(out, "runs", dataset, model, `seed-${seed}`),
  tensors: (dataset: string, model: string, seed: number, checkpoint: string, attack: string) =>
    join(out, "tensors", dataset, model, `seed-${seed}`, checkpoint, `${attack}.safetensors`),
});

const tag = (c: CheckpointInfo) => c.file.replace(/\.safetensors$/, "");

function versions(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
  return { advdyn: pkg.version, node: process.version, duckdb: duckdbVersion() };
}

/** Creates the study folder, or checks that it holds this same study. */
function openStudy(out: string, spec: StudySpec): void {
  mkdirSync(out, { recursive: true });
  const path = studyPaths(out).spec;
  const existing = readJson<StudyFile>(path);
  // Tables and the description only present the results: a newer version of them is taken over.
  const measured = (s: StudySpec) => JSON.stringify({ ...s, tables: undefined, description: undefined });
  if (existing !== undefined && measured(existing.spec) !== measured(spec)) {
    throw new Error(`${path}: this folder holds another study (${existing.study}, scale ${existing.scale}, or other settings); choose a new --out or delete the folder`);
  }
  if (existing === undefined || JSON.stringify(existing.spec) !== JSON.stringify(spec)) {
    writeJson(path, {
      study: spec.study, scale: spec.scale, description: spec.description,
      created: existing?.created ?? new Date().toISOString(), versions: existing?.versions ?? versions(), spec,
    } satisfies StudyFile);
  }
}

function trainRows(key: Omit<ResultRow, "checkpoint" | "epoch" | "iteration" | "final" | "attack" | "quantity" | "bin" | "example" | "value">, run: RunDir): ResultRow[] {
  const index = run.index();
  return index.checkpoints.flatMap((c) => (["trainAccuracy", "testAccuracy", "trainLoss", "testLoss"] as const).map((q) => ({
    ...key, checkpoint: tag(c), epoch: c.epoch, iteration: c.iteration, final: c.file === index.best, attack: "",
    quantity: q.replace(/[A-Z]/, (ch) => `_${ch.toLowerCase()}`), bin: null, example: null,
    // Accuracies in %, as the paper's tables give them.
    value: q.endsWith("Accuracy") ? 100 * c[q] : c[q],
  })));
}

export async function runStudy(spec: StudySpec, out: string, o: RunStudyOptions = {}): Promise<StudyResult> {
  openStudy(out, spec);
  const paths = studyPaths(out);
  const log = o.log ?? (() => {});
  const db = await ResultsDb.open(paths.db, spec.study);
  try {
    const done = await db.jobKeys();
    let ran = 0;
    let skipped = 0;
    const units = spec.datasets.flatMap((d) => spec.models.flatMap((m) => spec.seeds.map((seed) => ({ d, m, seed }))));
    for (const [i, { d, m, seed }] of units.entries()) {
      const prefix = `[${i + 1}/${units.length}] ${d.key} ${m.key} seed ${seed}`;
      const trainKey = jobKey({ kind: "train", dataset: d, model: { name: m.name, options: m.options, optim: m.optim ?? {} }, train: spec.train, seed });
      const run = new RunDir(paths.run(d.key, m.key, seed));
      const base = { dataset: d.key, model: m.key, seed };
      if (done.has(trainKey)) {
        skipped++;
      } else {
        log(`${prefix}: training ${m.label}`);
        const began = performance.now();
        let diverged: string | undefined;
        try {
          trainRun(run.path, {
            model: { name: m.name, options: m.options }, dataset: { name: d.name, ...(d.options ? { options: d.options } : {}) },
            ...spec.train, seed, ...(m.optim ? { optim: m.optim } : {}),
          }, { dataDir: o.dataDir, device: o.device, progress: o.progress });
        } catch (e) {
          // A diverged model is a result (the paper retuned such learning rates by hand): it is
          // recorded, its checkpoints so far kept, and the study goes on without measuring it.
          if (!(e instanceof TrainingDiverged)) throw e;
          diverged = e.message;
          log(`${prefix}: ${e.message}`);
        }
        const rows = trainRows(base, run);
        if (diverged) rows.push({ ...base, checkpoint: "", epoch: -1, iteration: -1, final: false, attack: "", quantity: "diverged", bin: null, example: null, value: 1 });
        await db.commitJob({ key: trainKey, kind: "train", ...base, checkpoint: "", spec: { dataset: d, model: m, train: spec.train, ...(diverged ? { diverged } : {}) }, seconds: (performance.now() - began) / 1000 }, rows);
        ran++;
      }
      if (spec.attack === null || (await db.query("SELECT 1 FROM results WHERE job = $1 AND quantity = 'diverged'", [trainKey])).length > 0) continue;
      const counts = await measureRun(spec, out, d, m, seed, run, trainKey, done, o, (line) => log(`${prefix}: ${line}`), db);
      ran += counts.ran;
      skipped += counts.skipped;
    }
    await db.exportCsv(paths.csv);
    const tables = [];
    for (const table of spec.tables) tables.push({ table, cells: await tableCells(db, table) });
    return { out, jobs: { ran, skipped }, tables };
  } finally {
    db.close();
  }
}

/** The measurement jobs of one trained run: the final checkpoint first (the others may need its perturbations). */
async function measureRun(
  spec: StudySpec, out: string, d: DatasetEntry, m: ModelEntry, seed: number, run: RunDir, trainKey: string, done: Set<string>,
  o: RunStudyOptions, log: (line: string) => void, db: ResultsDb,
): Promise<{ ran: number; skipped: number }> {
  const attack = spec.attack!;
  const paths = studyPaths(out);
  const index = run.index();
  const final = index.checkpoints.find((c) => c.file === index.best);
  if (!final) throw new Error(`${run.indexPath}: the run has no best checkpoint; delete ${run.path} and rerun`);
  const others = spec.checkpoints === "all" ? index.checkpoints.filter((c) => c !== final).sort((a, b) => a.iteration - b.iteration || a.epoch - b.epoch) : [];
  const needsFinal = spec.transfer || spec.breakpoints !== null;
  const measureSpec = { attack, minimalNorm: spec.minimalNorm, transfer: spec.transfer, breakpoints: spec.breakpoints, layerSpectra: spec.layerSpectra };
  const finalKey = jobKey({ kind: "measure", train: trainKey, checkpoint: final.file, ...measureSpec });
  const jobs = [final, ...others].map((c) => ({ c, key: c === final ? finalKey : jobKey({ kind: "measure", train: trainKey, checkpoint: c.file, ...measureSpec, after: needsFinal ? finalKey : null }) }));
  const todo = jobs.filter((j) => !done.has(j.key));
  if (todo.length === 0) return { ran: 0, skipped: jobs.length };
  const config: RunConfig = readRunConfig(run);
  const data = loadExamples(config, attack.split, attack.examples, o.dataDir);
  const progress = o.progress === false ? undefined : new Progress(`${m.key} attack`, todo.length, "ckpt");
  const finalFile = paths.tensors(d.key, m.key, seed, tag(final), attack.key);
  const breakpointEpochs = new Set(spec.breakpoints?.epochs ?? []);
  // The final checkpoint's perturbations, read once for all earlier checkpoints (after the final's job wrote them).
  let saved: Map<string, torch.Tensor> | undefined;
  let ran = 0;
  try {
    log(`measuring ${todo.length} checkpoint${todo.length > 1 ? "s" : ""} (${attack.key}, ${data.labels.shape[0]} ${attack.split} examples)`);
    for (const { c, key } of todo) {
      const began = performance.now();
      const module = loadCheckpointModel(run, config, c);
      if (c !== final && needsFinal) saved ??= torch.loadSafetensors(finalFile).tensors;
      try {
        const measurement = measureCheckpoint({
          spec, module, linear: m.linear, data, seed,
          key: { dataset: d.key, model: m.key, seed, checkpoint: tag(c), epoch: c.epoch, iteration: c.iteration, final: c === final },
          ...(c !== final && saved ? { final: finalPerturbations(saved) } : {}),
          // Breakpoints at epoch checkpoints only (the paper's snapshots are epochs).
          breakpoints: c.file === RunDir.epochFile(c.epoch) && breakpointEpochs.has(c.epoch),
        });
        try {
          for (const [attackKey, tensors] of measurement.tensors) {
            if (tensors.size === 0) continue;
            const path = paths.tensors(d.key, m.key, seed, tag(c), attackKey);
            mkdirSync(dirname(path), { recursive: true });
            torch.saveSafetensors(path, tensors, { model: m.key, checkpoint: tag(c), attack: attackKey, epoch: String(c.epoch), iteration: String(c.iteration) });
          }
        } finally {
          for (const t of measurement.tensors.values()) torch.dispose([...t.values()]);
        }
        await db.commitJob({ key, kind: "measure", dataset: d.key, model: m.key, seed, checkpoint: tag(c), spec: measureSpec, seconds: (performance.now() - began) / 1000 }, measurement.rows);
        ran++;
      } finally {
        module.dispose();
      }
      progress?.tick(1, { ckpt: tag(c) });
    }
  } finally {
    torch.dispose(data);
    if (saved) torch.dispose([...saved.values()]);
  }
  return { ran, skipped: jobs.length - ran };
}
