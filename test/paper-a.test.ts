// Paper A's six studies at smoke scale against the results.csv each produced when the fixtures were
// written (test/fixtures/paper-a-smoke/, machine.json says when and what changed since): the same
// rows, and the same values. On the machine type the fixtures were written on the values must be
// bit-identical; elsewhere BLAS kernels may round differently (thread counts alone move the last
// digits), so they must agree to 1e-3. A change meant to alter results rewrites the fixtures and
// says so in machine.json.
// The same studies check the quantity catalogue against what studies write and what the report reads.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { findQuantity } from "../src/analysis/quantities.js";
import { FIGURES } from "../src/report/figures.js";
import { studySpec } from "../src/studies/catalog.js";
import { runStudy } from "../src/studies/runner.js";
import { PAPER_A_STUDIES, STUDY_NAMES } from "../src/studies/spec.js";

const fixtures = fileURLToPath(new URL("../../test/fixtures/paper-a-smoke/", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "advdyn-paper-a-"));
after(() => rmSync(root, { recursive: true, force: true }));

type Csv = Record<string, string>[];
function parseCsv(text: string): Csv {
  const [head, ...lines] = text.trim().split("\n");
  const cols = head!.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i]!, v])));
}

const results = new Map<string, Csv>();
before(async () => {
  for (const name of STUDY_NAMES) {
    const out = join(root, name);
    await runStudy(studySpec(name, { scale: "smoke" }), out, { progress: false });
    results.set(name, parseCsv(readFileSync(join(out, "results.csv"), "utf8")));
  }
});

function machine(): Record<string, unknown> {
  const flags = (readFileSync("/proc/cpuinfo", "utf8").match(/^flags\s*:\s*(.*)$/m)?.[1] ?? "").split(/\s+/).sort().join(" ");
  return { cpu: cpus()[0]!.model, cores: cpus().length, flags: createHash("sha256").update(flags).digest("hex").slice(0, 16) };
}

/** A row's identity: everything but its value and the job key. */
function key(r: Record<string, string>): string {
  const { job: _job, value: _value, ...rest } = r;
  return JSON.stringify(rest);
}

test("paper A's six studies give the rows of their fixtures", () => {
  const exact = JSON.stringify(JSON.parse(readFileSync(join(fixtures, "machine.json"), "utf8")).machine) === JSON.stringify(machine());
  for (const name of PAPER_A_STUDIES) {
    const before = parseCsv(gunzipSync(readFileSync(join(fixtures, `${name}.csv.gz`))).toString("utf8"));
    const now = results.get(name)!;
    const group = (rows: Csv) => {
      const m = new Map<string, number[]>();
      for (const r of rows) (m.get(key(r)) ?? m.set(key(r), []).get(key(r))!).push(Number(r.value));
      return m;
    };
    const a = group(before);
    const b = group(now);
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), `${name}: the same rows (keys)`);
    let differing = 0;
    for (const [k, va] of a) {
      const vb = b.get(k)!;
      [...va].sort((x, y) => x - y).forEach((x, i) => {
        const y = [...vb].sort((p, q) => p - q)[i]!;
        if (Object.is(x, y)) return;
        differing++;
        assert.ok(!exact && Math.abs(x - y) <= 1e-3 * Math.max(Math.abs(x), Math.abs(y)) + 1e-6, `${name}: ${k} was ${x}, is ${y}${exact ? " (same machine type: must be identical)" : ""}`);
      });
    }
    if (exact) assert.equal(differing, 0, name);
  }
});

test("every quantity the studies write is in the catalogue, and every quantity a table or figure reads is written", () => {
  const written = new Set([...results.values()].flatMap((rows) => rows.map((r) => r.quantity!)));
  for (const q of written) assert.ok(findQuantity(q), `quantity '${q}' is written but not in the catalogue`);
  const present = (q: string) => (q.endsWith(":") ? [...written].some((w) => w.startsWith(q)) : written.has(q));
  for (const name of STUDY_NAMES) {
    for (const t of studySpec(name, { scale: "smoke" }).tables) {
      for (const c of t.columns) {
        assert.ok(findQuantity(c.quantity), `${name} table ${t.id}: '${c.quantity}' is not in the catalogue`);
        assert.ok(present(c.quantity), `${name} table ${t.id}: no study writes '${c.quantity}'`);
      }
    }
  }
  for (const f of FIGURES) {
    for (const q of f.quantities) {
      assert.ok(findQuantity(q.endsWith(":") ? `${q}x` : q), `figure ${f.name}: '${q}' is not in the catalogue`);
      assert.ok(present(q), `figure ${f.name}: no study writes '${q}'`);
    }
  }
});
