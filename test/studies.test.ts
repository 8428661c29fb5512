import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { queryStudy, studyContents } from "./helpers.js";
import { RunDir } from "../src/store/run.js";
import { studySpec } from "../src/studies/catalog.js";
import { jobKey } from "../src/studies/graph.js";
import type { MeasureInputs } from "../src/studies/kinds/index.js";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "advdyn-studies-"));
after(() => rmSync(root, { recursive: true, force: true }));
const study = (...args: string[]) => spawnSync(process.execPath, [bin, "study", ...args], { encoding: "utf8", timeout: 300_000 });



test("job keys are stable under key order and change with any input", () => {
  assert.equal(jobKey({ a: 1, b: { c: [1, 2], d: "x" } }), jobKey({ b: { d: "x", c: [1, 2] }, a: 1 }));
  assert.notEqual(jobKey({ a: 1, b: { c: [1, 2] } }), jobKey({ a: 1, b: { c: [2, 1] } }));
  assert.notEqual(jobKey({ eps: 8 / 255 }), jobKey({ eps: 8 / 256 }));
});

test("every study has a spec at every scale: unique model keys, tables naming its models, a train job per model before its measure job", () => {
  for (const name of ["ifr", "init-scale", "dynamics", "kernel-size", "architectures", "hidden-shortcut"] as const) {
    for (const scale of ["smoke", "demo", "paper"] as const) {
      const spec = studySpec(name, { scale });
      const keys = spec.models.map((m) => m.key);
      assert.equal(new Set(keys).size, keys.length, `${name}/${scale}: duplicate model keys`);
      for (const t of spec.tables) for (const r of t.rows) assert.ok(keys.includes(r.model), `${name}/${scale} table ${t.id}: unknown model ${r.model}`);
      const trains = spec.jobs.filter((j) => j.kind === "train");
      assert.deepEqual(new Set(trains.map((j) => j.tags.model)), new Set(keys), `${name}/${scale}: one train job per model`);
      assert.equal((trains[0]!.inputs.dataset as { name: string }).name, scale === "paper" ? "cifar10" : "fourier-classes");
      for (const m of spec.jobs.filter((j) => j.kind === "measure")) {
        const run = spec.jobs.findIndex((j) => j.id === m.deps!.run);
        assert.ok(run >= 0 && run < spec.jobs.indexOf(m), `${name}/${scale}: ${m.id} measures a run trained before it`);
      }
    }
  }
  const dynamics = studySpec("dynamics", { scale: "paper" }).jobs.find((j) => j.kind === "measure")!;
  assert.deepEqual((dynamics.inputs as unknown as MeasureInputs).breakpoints?.epochs, [0, 5, 10, 20, 25, 40]);
});

test("a smoke ifr study runs end to end, then again with nothing recomputed", async () => {
  const dir = join(root, "ifr");
  const first = study("ifr", "--scale", "smoke", "--out", dir);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /Table 1: frequency-domain norms/);
  assert.match(first.stdout, /No paper columns: its numbers are for cifar10, this table is on fourier-classes/);
  assert.match(first.stdout, /6 jobs run, 0 already done/);
  for (const f of ["study.json", "results.duckdb", "results.csv"]) assert.ok(existsSync(join(dir, f)), f);
  const before = await studyContents(dir);

  const second = study("ifr", "--scale", "smoke", "--out", dir);
  assert.equal(second.status, 0, second.stderr);
  assert.match(second.stdout, /0 jobs run, 6 already done/);
  assert.doesNotMatch(second.stderr, /train \[/);
  assert.deepEqual(await studyContents(dir), before);

  // One row per measured quantity: per-example spectra of successful attacks only, β of linear models only.
  const [succ] = await queryStudy(dir, "SELECT value FROM results WHERE model = 'fc-linear' AND best AND attack = 'pgd-linf' AND quantity = 'successes'");
  const [perExample] = await queryStudy(dir, "SELECT count(*) AS n FROM results WHERE model = 'fc-linear' AND best AND quantity = 'delta_hat_l1'");
  assert.equal(perExample!.n, succ!.value);
  for (const q of ["beta_hat_l1", "beta_hat_minmax_l1", "beta_hat_minmax_sparsity"]) {
    const beta = await queryStudy(dir, `SELECT DISTINCT model FROM results WHERE quantity = '${q}' ORDER BY model`);
    assert.deepEqual(beta.map((r) => r.model), ["fc-linear", "fwconv-linear"], q);
  }
  const [gap] = await queryStudy(dir, "SELECT max(value) AS g FROM results WHERE quantity = 'linearity_gap'");
  assert.ok(Number(gap!.g) < 1e-4, `linear models' gap ${gap!.g}`);
  // PGD L∞: every stored perturbation is inside the ε-ball.
  const [linf] = await queryStudy(dir, "SELECT max(value) AS m FROM results WHERE attack = 'pgd-linf' AND quantity = 'delta_linf'");
  assert.ok(Number(linf!.m) <= 8 / 255 + 1e-6, `‖δ‖∞ ${linf!.m}`);
  // Radial energy curves are distributions.
  const curves = await queryStudy(dir, "SELECT model, sum(value) AS s FROM results WHERE quantity = 'delta_radial' GROUP BY model");
  for (const c of curves) assert.ok(Math.abs(Number(c.s) - 1) < 1e-4, `${c.model}: radial energy sums to ${c.s}`);
  // The CSV export holds the same rows.
  const csv = readFileSync(join(dir, "results.csv"), "utf8").trim().split("\n");
  assert.equal(csv.length - 1, before.rows.length);
});

test("a study folder refuses changed settings, naming the field; more seeds or models, or more epochs, extend it", async () => {
  const dir = join(root, "ifr");
  const other = study("ifr", "--scale", "smoke", "--attack-steps", "7", "--out", dir);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /study\.json: job tensors\/fourier-classes\/fc-linear\/seed-0: inputs\.attack\.attack\.options\.steps is 5 here, 7 in this command/);
  // Another seed: only its jobs run.
  const extended = join(root, "ifr-extended");
  assert.equal(study("ifr", "--scale", "smoke", "--models", "fc-linear", "--out", extended).status, 0);
  // Epoch 1's entry (its metrics and training time): a retrained epoch would differ in its seconds.
  const epoch1 = () => new RunDir(join(extended, "runs/fourier-classes/fc-linear/seed-0")).index().checkpoints.find((c) => c.epoch === 1 && c.file.startsWith("epoch"))!;
  const trained = epoch1();
  const seeds = study("ifr", "--scale", "smoke", "--models", "fc-linear", "--seeds", "0,1", "--out", extended);
  assert.equal(seeds.status, 0, seeds.stderr);
  assert.match(seeds.stdout, /2 jobs run, 2 already done/);
  // More epochs: the runs go on from their last epoch (epoch 1 is not retrained), and are measured again.
  const longer = study("ifr", "--scale", "smoke", "--models", "fc-linear", "--seeds", "0,1", "--epochs", "2", "--out", extended);
  assert.equal(longer.status, 0, longer.stderr);
  assert.match(longer.stdout, /4 jobs run, 0 already done/);
  // The study keeps the best checkpoint's file and the last's, so epoch 1's file may be gone; its entry stays.
  const { removed: _, ...now } = epoch1();
  assert.deepEqual(now, trained, "epoch 1 was not retrained");
  const epochs = await queryStudy(extended, "SELECT DISTINCT epoch FROM results WHERE seed = 0 AND quantity = 'test_accuracy' ORDER BY epoch");
  assert.deepEqual(epochs.map((r) => r.epoch), [0, 1, 2]);
  const bad = study("nope", "--out", join(root, "x"));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown study 'nope' \(expected: ifr, init-scale/);
  const badSeeds = study("ifr", "--seeds", "a,b", "--out", join(root, "x"));
  assert.equal(badSeeds.status, 2);
  assert.match(badSeeds.stderr, /option '--seeds <s,...>' argument 'a,b' is invalid\. 'a' in 'a,b': expected an integer ≥ 0/);
});

test("kill -9 at a random moment, then a rerun, gives the database an uninterrupted run gives", async () => {
  const reference = join(root, "dyn-ref");
  const ref = study("dynamics", "--scale", "smoke", "--out", reference);
  assert.equal(ref.status, 0, ref.stderr);
  const expected = await studyContents(reference);
  // Transfer and breakpoints were measured on the earlier checkpoints, breakpoints on test images
  // attacked at the final checkpoint (whose attack's success is recorded there only).
  assert.ok(expected.rows.some((r) => r.includes('"attack":"pgd-linf@final"')));
  const flips = expected.rows.filter((r) => r.includes('"quantity":"flips_ever_random"')).map((r) => JSON.parse(r));
  assert.ok(flips.length > 0 && flips.every((r) => r.attack === "pgd-linf-test"));
  assert.deepEqual(new Set(flips.map((r) => r.checkpoint)), new Set(["epoch-0000", "epoch-0001", "epoch-0002"]));
  const bpSuccess = expected.rows.filter((r) => r.includes('"attack":"pgd-linf-test"') && r.includes('"quantity":"successes"')).map((r) => JSON.parse(r));
  assert.deepEqual(bpSuccess.map((r) => r.checkpoint), ["epoch-0002"]);

  const dir = join(root, "dyn-killed");
  let killed = 0;
  for (const delay of [400, 900, 1500]) {
    const child = spawn(process.execPath, [bin, "study", "dynamics", "--scale", "smoke", "--out", dir], { stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_code, signal) => r(signal)));
    await new Promise((r) => setTimeout(r, delay + Math.floor(Math.random() * 300)));
    child.kill("SIGKILL");
    if ((await exited) === "SIGKILL") killed++;
  }
  assert.ok(killed >= 1, "no run was interrupted: the study finished before every kill");
  const rerun = study("dynamics", "--scale", "smoke", "--out", dir);
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.deepEqual(await studyContents(dir), expected);
});

test("a diverging model is recorded and the study goes on", async () => {
  // A huge learning rate through a tiny custom study spec written as the runner reads it.
  const { runStudy } = await import("../src/studies/runner.js");
  const spec = studySpec("ifr", { scale: "smoke", models: ["fc-linear", "fwconv-linear"] });
  const fcTrain = spec.jobs.find((j) => j.kind === "train" && j.tags.model === "fc-linear")!;
  fcTrain.inputs = { ...fcTrain.inputs, optim: { lr: 1e6 } };
  const dir = join(root, "diverge");
  const lines: string[] = [];
  const result = await runStudy(spec, dir, { progress: false, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => /fc-linear.*training diverged/.test(l)), lines.join("\n"));
  const t1 = result.tables.find((t) => t.table.id === "table1")!;
  const fc = t1.table.rows.findIndex((r) => r.model === "fc-linear");
  const fw = t1.table.rows.findIndex((r) => r.model === "fwconv-linear");
  assert.equal(t1.cells[fc]![0], null);
  assert.ok(t1.cells[fw]![0] !== null);
  const [d] = await queryStudy(dir, "SELECT count(*) AS n FROM results WHERE model = 'fc-linear' AND quantity = 'diverged'");
  assert.equal(d!.n, 1);
});
