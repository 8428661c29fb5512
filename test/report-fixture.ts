// A small study folder written the way the study runner writes one (study.json, each job's rows
// through the job store, results.duckdb built from them, tensors/*.safetensors), with known
// values for the report tests.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { torch } from "../src/index.js";
import type { ResultRow } from "../src/store/db.js";
import { type JobRecord, JobStore } from "../src/store/jobs.js";
import { type ModelEntry, type StudyFile, StudyFolder } from "../src/store/study-folder.js";
import { writeJson } from "../src/util/json.js";
import { uniform } from "./helpers.js";

export const H = 8;
export const C = 3;
export const CLASSES = 4;
const EXAMPLES = 5;
const ITERS_PER_EPOCH = 10;

export interface Fixture {
  dir: string;
  info: StudyFile;
  rows: ResultRow[];
  /** tensors[model][checkpoint][name] for seed 0, attack pgd-linf. */
  tensors: Record<string, Record<string, Record<string, { shape: number[]; data: Float32Array }>>>;
}

export const MODELS: ModelEntry[] = [
  { key: "fc-a0.1", label: "FC linear α=0.1", name: "fc", options: { activation: "linear", initScale: 0.1 }, linear: true, group: "alpha" },
  { key: "fc-a10", label: "FC linear α=10", name: "fc", options: { activation: "linear", initScale: 10 }, linear: true, group: "alpha" },
  { key: "r18", label: "ResNet18", name: "resnet18", options: { activation: "relu" }, linear: false },
];
/** fc-a0.1 has two seeds, so figures must average over seeds. */
const SEEDS: Record<string, number[]> = { "fc-a0.1": [0, 1], "fc-a10": [0], r18: [0] };
const BREAKPOINTS = ["flips_ever", "flips_total", "roughness_true", "roughness_adv"];
const PER_EXAMPLE = ["delta_l2", "delta_linf", "delta_hat_l1", "delta_hat_l2", "delta_hat_sparsity", "delta_centroid", "delta_hf8"];

/** The attacks of the fixture's measure jobs: PGD at a fixed ε, and the minimal-norm attacks the dynamics run. */
const MEASURE = {
  attack: { key: "pgd-linf", attack: { attack: "pgd", norm: "linf", eps: 8 / 255 } },
  extraAttacks: (["l2", "linf"] as const).map((norm) => ({ key: `fmn-${norm}`, attack: { attack: "fmn", norm, eps: null } })),
};

export async function writeFixtureStudy(dir: string): Promise<Fixture> {
  mkdirSync(dir, { recursive: true });
  const dataset = "fourier-classes";
  const info: StudyFile = {
    study: "fixture", scale: "smoke", description: "report test fixture", created: "2025-01-01T00:00:00.000Z",
    versions: { advdyn: "0.1.0", node: process.version, duckdb: "test" },
    spec: {
      study: "ifr", scale: "smoke", description: "report test fixture", models: MODELS,
      jobs: MODELS.flatMap((m) => SEEDS[m.key]!.map((seed) => ({ id: `tensors/${dataset}/${m.key}/seed-${seed}`, kind: "measure", tags: { dataset, model: m.key, seed }, inputs: MEASURE }))),
      tables: [
        { id: "table1", title: "Table 1: frequency-domain norms, linear models", attack: "pgd-linf",
          columns: [{ quantity: "delta_hat_l2", label: "‖δ̂‖₂" }, { quantity: "delta_hat_l1", label: "‖δ̂‖₁" }],
          rows: [{ model: "fc-a0.1", paper: { "‖δ̂‖₂": [20.77, 1.23], "‖δ̂‖₁": [505.95, 32.22] } }, { model: "fc-a10" }] },
        { id: "table4", title: "Table 4: test accuracy", attack: "", columns: [{ quantity: "test_accuracy", label: "test acc. %" }],
          rows: [{ model: "fc-a10", paper: { "test acc. %": 41 } }] },
      ],
    },
  };
  writeJson(join(dir, "study.json"), info);
  const store = new JobStore(dir);
  const records: JobRecord[] = [];
  const all: ResultRow[] = [];
  const tensors: Fixture["tensors"] = {};
  let seedNo = 1;
  const rand = (n: number, lo = 0, hi = 1) => uniform(n, seedNo++, lo, hi);
  for (const m of MODELS) {
    for (const seed of SEEDS[m.key]!) {
      for (let epoch = 0; epoch <= 2; epoch++) {
        const checkpoint = `epoch-${String(epoch).padStart(4, "0")}`;
        const base = { dataset, model: m.key, seed, checkpoint, epoch, iteration: epoch * ITERS_PER_EPOCH, best: epoch === 2 };
        const rows: ResultRow[] = [];
        const add = (attack: string, quantity: string, value: number, bin: number | null = null, example: number | null = null) =>
          rows.push({ ...base, attack, quantity, bin, example, value });
        // Rates in %, as the study runner stores them.
        add("", "train_accuracy", 30 + 30 * epoch + rand(1, 0, 5)[0]!);
        add("", "test_accuracy", 25 + 25 * epoch + rand(1, 0, 5)[0]!);
        add("pgd-linf", "success_rate", 20 + 30 * epoch + rand(1, 0, 5)[0]!);
        add("pgd-linf@final", "success_rate", 10 + 20 * epoch);
        for (const norm of ["l2", "linf"]) {
          add(`fmn-${norm}`, "success_rate", 60 + 10 * epoch + rand(1, 0, 5)[0]!);
          rand(EXAMPLES, 0.1, 2).forEach((v, i) => add(`fmn-${norm}`, `delta_${norm}`, v, null, i));
        }
        for (const q of PER_EXAMPLE) rand(EXAMPLES, 1, 10).forEach((v, i) => add("pgd-linf", q, v, null, i));
        for (const [q, bins] of [["delta_radial", 6], ["delta_angular", 18]] as const) {
          const r = rand(bins);
          const s = r.reduce((a, b) => a + b, 0);
          r.forEach((v, b) => add("pgd-linf", q, v / s, b));
        }
        if (m.linear) rand(EXAMPLES, 100, 200).forEach((v, i) => add("pgd-linf", "beta_hat_l1", v, null, i));
        if (m.key === "r18") {
          for (const o of BREAKPOINTS) {
            // Adversarial segments separate from random ones as training goes on (paper A's Figs. 6–7).
            rand(EXAMPLES * 2, 0, 0.2).forEach((v, i) => add("pgd-linf", `${o}_adv`, v + 0.2 * epoch, null, i));
            rand(EXAMPLES * 2, 0, 0.2).forEach((v, i) => add("pgd-linf", `${o}_random`, v, null, i));
          }
        }
        const id = `tensors/${dataset}/${m.key}/seed-${seed}/${checkpoint}`;
        records.push(await store.commit({ key: `${m.key}-${seed}-${checkpoint}`, kind: "measure", id, tags: { dataset, model: m.key, seed }, inputs: {}, deps: {}, info: {}, seconds: 0 }, [], rows));
        all.push(...rows);
        if (seed !== 0) continue;
        const arrays: Record<string, { shape: number[]; data: Float32Array }> = {
          delta_log_magnitude: { shape: [H, H], data: Float32Array.from(rand(H * H, -2 + epoch, 3 + epoch)) },
          delta_examples: { shape: [3, C, H, H], data: Float32Array.from(rand(3 * C * H * H, -8 / 255, 8 / 255)) },
          inputs_examples: { shape: [3, C, H, H], data: Float32Array.from(rand(3 * C * H * H)) },
        };
        if (m.linear) {
          arrays.beta = { shape: [CLASSES, C, H, H], data: Float32Array.from(rand(CLASSES * C * H * H, -1, 1)) };
          arrays.beta_log_magnitude = { shape: [CLASSES, H, H], data: Float32Array.from(rand(CLASSES * H * H, 0, 5)) };
        }
        ((tensors[m.key] ??= {})[checkpoint] = arrays);
        const folder = join(dir, "tensors", dataset, m.key, `seed-${seed}`, checkpoint);
        mkdirSync(folder, { recursive: true });
        const ts = Object.fromEntries(Object.entries(arrays).map(([k, a]) => [k, torch.tensor(a.data, { shape: a.shape, dtype: "float32" })]));
        torch.saveSafetensors(join(folder, "pgd-linf.safetensors"), ts, { model: m.key, checkpoint, attack: "pgd-linf", epoch: String(epoch), iteration: String(base.iteration) });
        torch.dispose(Object.values(ts));
      }
    }
  }
  const folder = await StudyFolder.open(dir, info.spec);
  try {
    await folder.buildResults(info.study, records);
  } finally {
    folder.close();
  }
  return { dir, info, rows: all, tensors };
}
