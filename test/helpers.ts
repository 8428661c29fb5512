import assert from "node:assert/strict";
import { join } from "node:path";
import { ResultsDb } from "../src/store/db.js";
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
    await program(args).parseAsync(args, { from: "user" });
    return lines.join("\n");
  } finally {
    console.log = log;
    process.stdout.write = write;
  }
}
