// `advdyn study NAME`: one of paper A's experiments, resumable, with its tables printed beside the paper's.
import { existsSync } from "node:fs";
import { basename } from "node:path";
import { NAMED_DATASETS } from "../data/index.js";
import { parseStudySpec, type StudySpec } from "../store/study-folder.js";
import { readJson } from "../util/json.js";
import type { Cell } from "../store/tables.js";
import { type CatalogOptions, studySpec } from "../studies/catalog.js";
import { type StudyResult, runStudy } from "../studies/runner.js";
import { SCALES, STUDY_NAMES, type StudyName } from "../studies/spec.js";
import { choice, integer, parse } from "./options.js";
import { UsageError } from "./usage.js";

export const STUDY_USAGE = `advdyn study ${STUDY_NAMES.join("|")}|SPEC.json [options]
  SPEC.json: a study graph written by hand ({ study, jobs: [{ id, kind, tags, inputs, deps }], models, tables }; see docs/studies.md)
  --scale smoke|demo|paper (default demo): seconds / about 2 minutes on 2 cores / the paper's settings
  --dataset ${NAMED_DATASETS.filter((d) => d !== "orthogonal").join(" | ")} (default fourier-classes; cifar10 at paper scale)
  --out DIR (default advdyn-studies/NAME-SCALE)   --seeds 0,1,2 (default 0)   --models KEY,KEY (a subset of the study's)
  --epochs N  --train-examples N  --test-examples N  --attack-steps N  --attack-examples N   (override the scale's)
  --data-dir DIR (default ~/.advdyn/data)   --device cpu|cuda   --json
  Rerunning with the same options skips finished jobs; an interrupted study resumes.`;

export interface StudyArgs extends CatalogOptions {
  /** A catalogued study, or the path of a spec file. */
  study: StudyName | { file: string };
  out: string;
  dataDir?: string;
  device: "cpu" | "cuda";
  json: boolean;
}

export function parseStudyArgs(args: string[]): StudyArgs {
  const { values: v, positionals } = parse(args, {
    scale: { type: "string" }, dataset: { type: "string" }, out: { type: "string" }, seeds: { type: "string" }, models: { type: "string" },
    epochs: { type: "string" }, "train-examples": { type: "string" }, "test-examples": { type: "string" },
    "attack-steps": { type: "string" }, "attack-examples": { type: "string" },
    "data-dir": { type: "string" }, device: { type: "string" }, json: { type: "boolean" },
  });
  if (positionals.length !== 1) throw new UsageError(`expected one study name (${STUDY_NAMES.join(", ")}) or a spec file, got ${positionals.length ? positionals.join(" ") : "none"}`);
  const name = positionals[0]!;
  const file = name.endsWith(".json");
  if (!file && !STUDY_NAMES.includes(name as StudyName)) throw new UsageError(`unknown study '${name}' (expected: ${STUDY_NAMES.join(", ")}, or a SPEC.json file)`);
  const study = file ? { file: name } : name as StudyName;
  const scale = choice("scale", v.scale, SCALES, "demo");
  const seeds = v.seeds?.split(",").map((s) => Number(s.trim()));
  if (seeds && (seeds.length === 0 || seeds.some((s) => !Number.isSafeInteger(s) || s < 0))) throw new UsageError(`--seeds: expected non-negative integers like 0,1,2, got '${v.seeds}'`);
  return {
    study, scale, out: v.out ?? `advdyn-studies/${file ? basename(name, ".json") : `${name}-${scale}`}`,
    ...(v.dataset !== undefined ? { dataset: choice("dataset", v.dataset, NAMED_DATASETS, "fourier-classes") } : {}),
    ...(seeds ? { seeds } : {}),
    ...(v.models !== undefined ? { models: v.models.split(",").map((m) => m.trim()) } : {}),
    ...Object.fromEntries((["epochs", "train-examples", "test-examples", "attack-steps", "attack-examples"] as const)
      .filter((k) => v[k] !== undefined)
      .map((k) => [k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), integer(k, v[k], 0, 1)])),
    ...(v["data-dir"] !== undefined ? { dataDir: v["data-dir"] } : {}),
    device: choice("device", v.device, ["cpu", "cuda"] as const, "cpu"),
    json: v.json ?? false,
  };
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));
const cell = (c: Cell | null) => (c === null ? "—" : c.n > 1 ? `${fmt(c.mean)} ± ${fmt(c.std)}` : fmt(c.mean));
const paperCell = (p: number | readonly [number, number] | undefined) => (p === undefined ? "" : typeof p === "number" ? fmt(p) : `${fmt(p[0])} ± ${fmt(p[1])}`);

/** The study's tables as text: ours, and the paper's value under it where the paper has one. */
export function formatTables(result: StudyResult): string {
  const lines: string[] = [];
  for (const { table, cells } of result.tables) {
    const header = ["model", ...table.columns.map((c) => c.label)];
    const body: string[][] = [];
    table.rows.forEach((row, i) => {
      body.push([row.model, ...cells[i]!.map(cell)]);
      const paper = table.columns.map((c) => paperCell(row.paper?.[c.label]));
      if (paper.some((p) => p !== "")) body.push(["  paper", ...paper]);
    });
    const widths = header.map((h, j) => Math.max(h.length, ...body.map((r) => r[j]!.length)));
    const line = (r: string[]) => r.map((s, j) => (j === 0 ? s.padEnd(widths[j]!) : s.padStart(widths[j]!))).join("  ");
    lines.push("", table.title, line(header), ...body.map(line));
  }
  return lines.join("\n");
}

/** The spec of a catalogued study with the command's overrides, or of a spec file. */
function specOf(a: StudyArgs): StudySpec {
  if (typeof a.study === "object") {
    if (!existsSync(a.study.file)) throw new UsageError(`${a.study.file}: no such spec file`);
    return parseStudySpec(readJson(a.study.file), a.study.file);
  }
  try {
    return studySpec(a.study, a);
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(`--${e.message}`);
    throw e;
  }
}

export async function runStudyArgs(a: StudyArgs): Promise<StudyResult> {
  const spec = specOf(a);
  if (!a.json) console.log(`${spec.study} (${spec.scale}): ${spec.description}\n${spec.models.length} models, ${spec.jobs.length} jobs, into ${a.out}`);
  const result = await runStudy(spec, a.out, { dataDir: a.dataDir, device: a.device, progress: !a.json, log: a.json ? undefined : (l) => console.log(l) });
  if (a.json) console.log(JSON.stringify(result, null, 2));
  else console.log(`${formatTables(result)}\n\n${result.jobs.ran} jobs run, ${result.jobs.skipped} already done; results in ${a.out}/results.duckdb and results.csv`);
  return result;
}

export async function studyCommand(args: string[]): Promise<number> {
  await runStudyArgs(parseStudyArgs(args));
  return 0;
}
