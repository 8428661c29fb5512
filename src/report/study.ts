// Reading a study folder for the report: study.json, the results database (read-only) and the
// tensors files the study runner wrote. Nothing here computes a measurement; it only reads them.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { ResultsDb, type Row } from "../store/db.js";
import type { ModelEntry, StudyFile } from "../store/study-folder.js";
import type { Table } from "../store/tables.js";
import { readJson } from "../util/json.js";
import { loadSafetensors } from "../torch/safetensors.js";

/** One tensors/<dataset>/<model>/seed-<s>/<checkpoint>/<attack>.safetensors file. */
export interface TensorsFile {
  dataset: string;
  model: string;
  seed: number;
  checkpoint: string;
  attack: string;
  path: string;
}

/** A float array with its shape, copied out of a tensors file. */
export interface Array32 {
  shape: number[];
  data: Float32Array;
}

export class Study {
  private files?: TensorsFile[];
  private constructor(readonly dir: string, readonly info: StudyFile, readonly db: ResultsDb) {}

  get models(): ModelEntry[] {
    return this.info.spec.models;
  }

  get tables(): Table[] {
    return this.info.spec.tables;
  }

  /** Opens a study folder; a missing folder or file is an error naming it. */
  static async open(dir: string): Promise<Study> {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: no such study folder`);
    const infoPath = join(dir, "study.json");
    const info = readJson<StudyFile>(infoPath);
    if (info === undefined) throw new Error(`${infoPath}: missing; ${dir} is not a study folder (advdyn study … --out DIR writes one)`);
    if (typeof info.study !== "string" || !Array.isArray(info.spec?.models) || !Array.isArray(info.spec?.tables) || !Array.isArray(info.spec?.jobs)) {
      throw new Error(`${infoPath}: expected { study, spec: { models: [...], tables: [...], jobs: [...] }, ... }`);
    }
    return new Study(dir, info, await ResultsDb.open(join(dir, "results.duckdb")));
  }

  query(sql: string, params: (string | number | boolean)[] = []): Promise<Row[]> {
    return this.db.query(sql, params);
  }

  /**
   * The study's minimal-norm attacks (ε null: each finds the smallest δ it can) by key, with the
   * norm they minimise. Only their ‖δ‖ says something about the model; a fixed-ε attack's is ε by design.
   */
  minimalNormAttacks(): Map<string, string> {
    const out = new Map<string, string>();
    for (const j of this.info.spec.jobs) {
      if (j.kind !== "measure") continue;
      // A measure job's attacks as its spec writes them (attacks/registry.ts's AttackRef, read as plain JSON).
      type Ref = { key: string; attack: { norm: string; eps?: number | null } };
      const i = j.inputs as { attack?: Ref; extraAttacks?: Ref[] };
      for (const a of [...(i.attack ? [i.attack] : []), ...(i.extraAttacks ?? [])]) if (a.attack.eps === null) out.set(a.key, a.attack.norm);
    }
    return out;
  }

  /** Display label of a model key (the key itself for a model study.json does not list). */
  label(key: string): string {
    return this.models.find((m) => m.key === key)?.label ?? key;
  }

  /** Model keys in study.json order, then any others the database holds, sorted. */
  orderModels(keys: Iterable<string>): string[] {
    const set = new Set(keys);
    const listed = this.models.map((m) => m.key).filter((k) => set.has(k));
    return [...listed, ...[...set].filter((k) => !listed.includes(k)).sort()];
  }

  /** Every tensors file of the study (listed once: the report does not run beside a writer). */
  tensorsFiles(): TensorsFile[] {
    if (this.files) return this.files;
    const out: TensorsFile[] = [];
    const sub = (p: string) => (existsSync(p) ? readdirSync(p, { withFileTypes: true }) : []);
    const root = join(this.dir, "tensors");
    for (const d of sub(root).filter((e) => e.isDirectory())) {
      for (const m of sub(join(root, d.name)).filter((e) => e.isDirectory())) {
        for (const s of sub(join(root, d.name, m.name)).filter((e) => e.isDirectory() && /^seed-\d+$/.test(e.name))) {
          for (const c of sub(join(root, d.name, m.name, s.name)).filter((e) => e.isDirectory())) {
            for (const f of sub(join(root, d.name, m.name, s.name, c.name)).filter((e) => e.isFile() && e.name.endsWith(".safetensors"))) {
              out.push({ dataset: d.name, model: m.name, seed: Number(s.name.slice(5)), checkpoint: c.name,
                attack: f.name.slice(0, -".safetensors".length), path: join(root, d.name, m.name, s.name, c.name, f.name) });
            }
          }
        }
      }
    }
    this.files = out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return this.files;
  }

  close(): void {
    this.db.close();
  }
}

/** The float tensors of a file as Float32Arrays (the native tensors are freed at once). */
export function readTensors(path: string): { arrays: Map<string, Array32>; metadata: Record<string, string> } {
  const { tensors, metadata } = loadSafetensors(path);
  const arrays = new Map<string, Array32>();
  for (const [name, t] of tensors) {
    const d = t.toTypedArray();
    if (d instanceof Float32Array || d instanceof Float64Array) arrays.set(name, { shape: [...t.shape], data: Float32Array.from(d) });
    t.dispose();
  }
  return { arrays, metadata };
}
