// `advdyn study NAME|SPEC.json`: one of the papers' experiments, or a study graph written by hand,
// resumable, with its tables printed beside the paper's.
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { type DatasetName, NAMED_DATASETS, datasetAvailable } from "../data/index.js";
import type { StudySpec } from "../store/study-folder.js";
import type { Cell } from "../store/tables.js";
import { type CatalogOptions, studySpec, withPrecision } from "../studies/catalog.js";
import type { Precision } from "../torch/dtype.js";
import type { StudyResult } from "../studies/runner.js";
import { THEORY_SWEEPS } from "../studies/paper-b.js";
import { SCALES, STUDY_NAMES, type StudyName } from "../studies/spec.js";
import { readJson } from "../util/json.js";
import { deviceOption, integer, list, number, precisionOption } from "./options.js";
import { queueOptions } from "./worker.js";
import { table } from "./table.js";
import { UsageError } from "./usage.js";
import * as torch from "../torch/index.js";

export interface StudyArgs extends CatalogOptions {
  /** A catalogued study, or the path of a spec file. */
  study: StudyName | { file: string };
  out: string;
  dataDir?: string;
  device: "cpu" | "cuda";
  json: boolean;
  verify?: boolean;
  /** Every train job's precision (so also that of the attacks on its runs). */
  precision?: Precision;
  /** Run the jobs through queue workers. */
  queue?: string;
  queuePasswordFile?: string;
  retries?: number;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));
const cell = (c: Cell | null) => (c === null ? "—" : c.n > 1 ? `${fmt(c.mean)} ± ${fmt(c.std)}` : fmt(c.mean));
const paperCell = (p: number | readonly [number, number] | undefined) => (p === undefined ? "" : typeof p === "number" ? fmt(p) : `${fmt(p[0])} ± ${fmt(p[1])}`);

/** The study's tables as text: ours, the paper's value under it where the paper has one, and the table's note. */
export function formatTables(result: StudyResult): string {
  return result.tables.map(({ table: t, cells }) => {
    const rows = t.rows.flatMap((row, i) => {
      const paper = t.columns.map((c) => paperCell(row.paper?.[c.label]));
      return [[row.model, ...cells[i]!.map(cell)], ...(paper.some((p) => p !== "") ? [[`  ${t.reference ?? "paper"}`, ...paper]] : [])];
    });
    return `\n${t.title}\n${table(["model", ...t.columns.map((c) => c.label)], rows)}${t.note ? `\n${t.note}` : ""}`;
  }).join("\n");
}

/** The datasets a study can run on (the orthogonal set is not images). */
const STUDY_DATASETS = NAMED_DATASETS.filter((d) => d !== "orthogonal");
const datasetName = (v: string): DatasetName => {
  if ((STUDY_DATASETS as readonly string[]).includes(v)) return v as DatasetName;
  throw new InvalidArgumentError(`unknown dataset (expected: ${STUDY_DATASETS.join(", ")})`);
};

/**
 * The demo scale's data when none is named: real Fashion-MNIST when it is installed (the user's
 * data folder, then Debian's dataset-fashion-mnist), else the built-in fourier-classes.
 */
export function demoDatasets(dataDir: string | undefined, log: (line: string) => void): DatasetName[] {
  if (datasetAvailable("fashion-mnist", dataDir)) return ["fashion-mnist"];
  log("fashion-mnist is not installed (apt-get install dataset-fashion-mnist, or advdyn data get fashion-mnist): using the built-in fourier-classes images");
  return ["fourier-classes"];
}

/** The spec of a catalogued study with the command's overrides, or of a spec file. */
async function specOf(a: StudyArgs): Promise<StudySpec> {
  if (typeof a.study === "object") {
    if (!existsSync(a.study.file)) throw new UsageError(`${a.study.file}: no such spec file`);
    const { parseStudySpec } = await import("../store/study-folder.js");
    return withPrecision(parseStudySpec(readJson(a.study.file), a.study.file), a.precision);
  }
  try {
    return withPrecision(studySpec(a.study, a), a.precision);
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(`--${e.message}`);
    throw e;
  }
}

/** The bytes under a folder, for people (checkpoints dominate: studies keep only those they measure). */
function diskUse(dir: string): string {
  const bytes = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath ?? e.path, e.name)).size, 0);
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

export async function runStudyArgs(a: StudyArgs): Promise<StudyResult> {
  const spec = await specOf(a);
  // Loaded here, not at start: --help and usage errors should not pay for the database engine.
  const { runStudy } = await import("../studies/runner.js");
  if (!a.json) console.log(`${spec.study} (${spec.scale}): ${spec.description}\n${spec.models.length} models, ${spec.jobs.length} jobs, into ${a.out}`);
  const result = await runStudy(spec, a.out, {
    dataDir: a.dataDir, device: a.device, progress: !a.json, log: a.json ? undefined : (l) => console.log(l), verify: a.verify,
    ...(a.queue ? { queue: { url: a.queue, passwordFile: a.queuePasswordFile, retries: a.retries } } : {}),
  });
  if (a.json) console.log(JSON.stringify(result, null, 2));
  else console.log(`${formatTables(result)}\n\n${result.jobs.ran} jobs run, ${result.jobs.skipped} already done; results in ${a.out}/results.duckdb and results.csv; ${diskUse(a.out)} on disk`);
  return result;
}

const studyArg = (v: string): string => {
  if (v.endsWith(".json") || (STUDY_NAMES as readonly string[]).includes(v)) return v;
  throw new InvalidArgumentError(`unknown study '${v}' (expected: ${STUDY_NAMES.join(", ")}, or a SPEC.json file)`);
};

export function studyCommand(): Command {
  const cmd = new Command("study")
    .description("Run a study: a graph of jobs (train, measure, attack-set, derive-dataset, evaluate, theory-net, perturbation-theory) into a study folder, skipping what is done; " +
      "print its tables beside the paper's. SPEC.json is a graph written by hand ({ study, jobs: [{ id, kind, tags, inputs, deps }], models, tables }; docs/studies.md).")
    .argument("<study>", `${STUDY_NAMES.join(" | ")}, or SPEC.json`, studyArg)
    .addOption(new Option("--scale <scale>", "smoke: seconds; demo: about a minute on 2 cores; paper: the paper's settings").choices(SCALES).default("demo"))
    .option("--dataset <name,...>", `the dataset, or several (tables and report panels for each): ${STUDY_DATASETS.join(", ")}; ` +
      "default at demo scale fashion-mnist when installed (else fourier-classes), smoke fourier-classes, paper cifar10", list(datasetName, "dataset names"))
    .option("--out <dir>", "the study folder (default advdyn-studies/NAME-SCALE)")
    .option("--seeds <s,...>", "seeds (default 0)", list(integer(0), "non-negative integers"))
    .option("--models <key,...>", "a subset of the study's model keys", list((s) => s, "model keys"))
    .option("--epochs <n>", "override the scale's epochs", integer(1))
    .option("--train-examples <n>", "override the scale's training examples", integer(1))
    .option("--test-examples <n>", "override the scale's test examples", integer(1))
    .option("--attack-steps <n>", "override the scale's attack steps", integer(1))
    .option("--attack-examples <n>", "override the scale's attacked examples", integer(1))
    .option("--attack-stepsize <s,...>", "PGD's absolute step (default 0.01, paper A's code; its Table 6 says 0.1); several: the tables for each", list(number(0, true), "numbers > 0"))
    .addOption(new Option("--sweep <axis>", "perturbation-theory: sweep one axis around the defaults (d: dimension, n: natural samples, nadv: noise samples, eps: budget)").choices(THEORY_SWEEPS))
    .option("--iterations <n>", "perturbation-theory: full-batch iterations of each training (default: the scale's)", integer(1))
    .option("--noise-sizes <n,...>", "perturbation-learning: also train on the first N of one large perturbed-noise set, for each N (paper B: 60000,240000,480000,720000,960000,1200000)", list(integer(1), "integers ≥ 1"))
    .option("--data-dir <dir>", "where real datasets live (default ~/.advdyn/data)")
    .option("--verify", "check the SHA-256 of every output of the finished jobs (not only its size) and redo the damaged ones")
    .addOption(precisionOption("every training and attack of the study", "fp32"))
    .addOption(deviceOption())
    .option("--json", "print the result as JSON")
    .option("--retries <n>", "with --queue: attempts after the first for a job that fails", integer(0), 2)
    .addHelpText("after", "\nRerunning with the same options skips finished jobs; an interrupted study resumes; a changed setting is refused in an existing folder. " +
      "With --queue, the jobs run on workers (advdyn worker --queue URL) on any machine that sees the study folder; docs/distributed.md.")
    .action(async (name: string, o) => {
      torch.watchInterrupts();
      const file = name.endsWith(".json");
      const { dataset, attackStepsize, ...rest } = o;
      const datasets = dataset ?? (o.scale === "demo" && !file ? demoDatasets(o.dataDir, (l) => console.error(l)) : undefined);
      await runStudyArgs({
        ...rest, study: file ? { file: name } : name as StudyName, out: o.out ?? `advdyn-studies/${file ? basename(name, ".json") : `${name}-${o.scale}`}`,
        json: o.json ?? false, ...(datasets ? { datasets } : {}), ...(attackStepsize ? { attackStepsizes: attackStepsize } : {}),
      });
    });
  return queueOptions(cmd, false);
}
