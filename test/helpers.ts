import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { ResultsDb } from "../src/store/db.js";
import { datasetAvailable } from "../src/data/index.js";
import { torch } from "../src/index.js";
import type { Tensor } from "../src/torch/index.js";

/** Flat float64 values of a tensor (any real dtype). */
export function values(t: Tensor): number[] {
  return Array.from(t.toTypedArray() as ArrayLike<number | bigint>, Number);
}

export function assertClose(actual: Tensor | number[] | number, expected: number[] | number, tol = 1e-5, msg = ""): void {
  const a = typeof actual === "number" ? [actual] : Array.isArray(actual) ? actual : values(actual);
  const e = typeof expected === "number" ? [expected] : expected;
  assert.equal(a.length, e.length, `${msg} length ${a.length} vs ${e.length}`);
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - e[i]!);
    if (!(err <= tol * (1 + Math.abs(e[i]!))) && !(Number.isNaN(a[i]) && Number.isNaN(e[i]))) {
      assert.fail(`${msg} element ${i}: got ${a[i]}, expected ${e[i]} (tolerance ${tol})`);
    }
  }
}

/** A deterministic pseudo-random float64 array in [lo, hi) (independent of libtorch's generators). */
export function uniform(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return lo + ((s >>> 0) / 4294967296) * (hi - lo);
  });
}

export function f64(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return torch.tensor(new Float64Array(uniform(n, seed, lo, hi)), { shape });
}

/**
 * Compares autograd's gradient of sum(f(inputs) * r) (r fixed random) with central finite
 * differences in float64, for every element of every input.
 */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], name: string, tol = 1e-6, eps = 1e-6): void {
  torch.tidy(() => {
    const xs = inputs.map((x) => x.detach().requiresGrad_(true));
    const out = f(...xs);
    const r = f64([...out.shape], 99);
    const loss = out.mul(r).sum();
    const analytic = torch.autograd.grad(loss, xs, { allowUnused: true });
    const lossAt = (k: number, data: Float64Array): number =>
      torch.tidy(() => torch.noGrad(() => {
        const args = xs.map((x, j) => (j === k ? torch.tensor(data, { shape: [...x.shape] }) : x.detach()));
        return f(...args).mul(r).sum().item();
      }));
    xs.forEach((x, k) => {
      const base = Float64Array.from(values(x));
      const numeric = Array.from(base, (_, i) => {
        const plus = Float64Array.from(base); plus[i]! += eps;
        const minus = Float64Array.from(base); minus[i]! -= eps;
        return (lossAt(k, plus) - lossAt(k, minus)) / (2 * eps);
      });
      const g = analytic[k];
      assertClose(g === undefined ? numeric.map(() => 0) : values(g), numeric, tol, `${name}: d/d(input ${k})`);
    });
  });
}

/** One SQL query on a study folder's results database. */
export async function queryStudy(dir: string, sql: string) {
  const db = await ResultsDb.open(join(dir, "results.duckdb"));
  try {
    return await db.query(sql);
  } finally {
    db.close();
  }
}

/** A study folder's results and job records as text, in a fixed order (its content up to job timings). */
export async function studyContents(dir: string): Promise<{ rows: string[]; jobs: string[] }> {
  const db = await ResultsDb.open(join(dir, "results.duckdb"));
  try {
    const rows = await db.query("SELECT * FROM results ORDER BY ALL");
    const jobs = await db.query("SELECT key, kind, id, inputs, deps, info, rows FROM jobs ORDER BY key");
    return { rows: rows.map((r) => JSON.stringify(r)), jobs: jobs.map((r) => JSON.stringify(r)) };
  } finally {
    db.close();
  }
}

/** Runs `advdyn ARGS` in this process (what it prints to stdout, and errors thrown as they are: CommanderError, UsageError, …). */
export async function runCli(args: string[]): Promise<string> {
  const { program } = await import("../src/cli/program.js");
  const lines: string[] = [];
  const log = console.log;
  const write = process.stdout.write;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  process.stdout.write = ((chunk: string) => (lines.push(String(chunk).replace(/\n$/, "")), true)) as typeof process.stdout.write;
  try {
    await (await program(args)).parseAsync(args, { from: "user" });
    return lines.join("\n");
  } finally {
    console.log = log;
    process.stdout.write = write;
  }
}

/**
 * A small MNIST-format set (gzipped IDX) in dataDir/<name>: 28×28 images whose class sets the
 * orientation and frequency of a grating, plus noise, so that models learn it in an epoch.
 */
export function writeMnistLike(dataDir: string, name: "mnist" | "fashion-mnist", n = { train: 256, test: 64 }, seed = 1): void {
  const dir = join(dataDir, name);
  mkdirSync(dir, { recursive: true });
  const idx = (dims: number[], payload: Uint8Array) => {
    const header = Buffer.alloc(4 + 4 * dims.length);
    header.writeUInt32BE(0x0800 | dims.length, 0);
    dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
    return gzipSync(Buffer.concat([header, payload]));
  };
  for (const [split, prefix] of [["train", "train"], ["test", "t10k"]] as const) {
    const count = n[split];
    const noise = uniform(count * 784, seed + (split === "test" ? 7 : 0), 0, 60);
    const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
    const pixels = new Uint8Array(count * 784);
    for (let i = 0; i < count; i++) {
      const c = labels[i]!;
      const angle = (c * Math.PI) / 10;
      for (let p = 0; p < 784; p++) {
        const [y, x] = [Math.floor(p / 28), p % 28];
        const phase = ((x * Math.cos(angle) + y * Math.sin(angle)) * (2 + (c % 3)) * 2 * Math.PI) / 28;
        pixels[i * 784 + p] = Math.round(90 + 80 * Math.sin(phase) + noise[i * 784 + p]!);
      }
    }
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), idx([count, 28, 28], pixels));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), idx([count], labels));
  }
}

/** Temp files and locks left under a folder (a killed writer's debris). */
export function debris(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => /\.tmp-\d+-|^\.lock$/.test(e.name)).map((e) => join(e.parentPath, e.name));
}

/** A test's skip reason when Debian's Fashion-MNIST is absent (false when present, or when ADVDYN_REQUIRE_SYSTEM_DATA makes its absence a failure). */
export const noFashion = !datasetAvailable("fashion-mnist") && !process.env.ADVDYN_REQUIRE_SYSTEM_DATA
  ? "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist, at /usr/share/datasets/fashion-mnist); set ADVDYN_REQUIRE_SYSTEM_DATA=1 to make this a failure" : false;
