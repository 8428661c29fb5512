// A study graph of four chained job kinds, as paper B's experiment chains them: train a source
// model f → attack its training images toward the next class (attack-set) → turn x + δ with the
// targets as labels into a dataset (derive-dataset) → train a fresh model g on it → evaluate g on
// clean test data. Run from a spec file through the CLI, interrupted with kill -9, and run by two
// processes at once.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { debris, studyContents } from "./helpers.js";
import type { StudySpec } from "../src/store/study-folder.js";
import { torch } from "../src/index.js";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "advdyn-graph-"));
after(() => rmSync(root, { recursive: true, force: true }));

// Four classes and a strong class signal, so that f learns in three short epochs.
const data = { name: "fourier-classes", options: { fourierClasses: { classes: 4, size: 16, train: 512, test: 64, amplitude: 0.2 } } };
const train = { epochs: 3, batchSize: 16, checkpointEveryIters: 0, earlyEpochs: 1 };
const optim = { lr: 0.05 };
const model = { name: "fc", options: { width: 64, activation: "relu" } };
const tags = (m: string) => ({ dataset: "fourier-classes", model: m, seed: 0 });

export const CHAIN: StudySpec = {
  study: "chain", scale: "smoke", description: "train f → attack-set → derive-dataset → train g → evaluate g on clean data",
  models: [{ key: "f", label: "source model f", ...model, linear: false }, { key: "g", label: "g, trained on f's mislabeled adversarial examples", ...model, linear: false }],
  tables: [{ id: "chain", title: "g on clean test data", attack: "", columns: [{ quantity: "eval_accuracy", label: "accuracy %" }], rows: [{ model: "g" }] }],
  jobs: [
    { id: "runs/f", kind: "train", tags: tags("f"), inputs: { model, dataset: data, train, seed: 0, optim } },
    {
      id: "attacks/f-next", kind: "attack-set", tags: tags("f"), deps: { run: "runs/f" },
      inputs: { key: "pgd-l2", attack: { attack: "pgd", norm: "l2", eps: 4, options: { steps: 20, relStepsize: 0.1 } }, checkpoint: "best", split: "train", examples: 512, batchSize: 128, targets: "next", seed: 0 },
    },
    { id: "datasets/f-next", kind: "derive-dataset", tags: tags("f"), deps: { set: "attacks/f-next" }, inputs: { labels: "targets" } },
    { id: "runs/g", kind: "train", tags: tags("g"), deps: { data: "datasets/f-next" }, inputs: { model, dataset: { from: "data" }, train, seed: 1, optim } },
    { id: "evaluate/g", kind: "evaluate", tags: tags("g"), deps: { run: "runs/g" }, inputs: { checkpoint: "best", dataset: data, split: "test" } },
  ],
};

const specFile = join(root, "chain.json");
writeFileSync(specFile, JSON.stringify(CHAIN));
const studyArgs = (dir: string) => [bin, "study", specFile, "--out", dir];
const study = (dir: string, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, studyArgs(dir), { encoding: "utf8", timeout: 300_000, env: { ...process.env, ...env } });


/** Files left by interrupted writers (temporary names) or a lock, anywhere under dir. */
/** A study run that stops in the middle of writing the file whose path contains `at`, and waits there to be killed. */
async function runUntilFault(dir: string, at: string) {
  const child = spawn(process.execPath, studyArgs(dir), { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ADVDYN_FAULT_WRITE: at } });
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes("ADVDYN_FAULT_WRITE: stopped halfway")) resolve();
    });
    child.on("exit", () => reject(new Error(`the run ended before the fault: ${stderr}`)));
  });
  return { child, kill: async () => {
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
  } };
}

const reference = join(root, "reference");
let expected: { rows: string[]; jobs: string[] };
let seconds = 0;
before(async () => {
  const began = performance.now();
  const r = study(reference);
  seconds = (performance.now() - began) / 1000;
  assert.equal(r.status, 0, r.stderr);
  expected = await studyContents(reference);
});

test("the chained graph runs end to end: g learns from f's mislabeled adversarial examples; a rerun recomputes nothing", async () => {
  const rows = expected.rows.map((r) => JSON.parse(r) as Record<string, unknown>);
  const value = (model: string, quantity: string) => rows.filter((r) => r.model === model && r.quantity === quantity);
  // f learned the clean task; the derived set holds every attacked image, nearly all classified as their new label by f.
  assert.ok(Math.max(...value("f", "test_accuracy").map((r) => Number(r.value))) > 90);
  assert.equal(value("f", "examples").find((r) => r.attack === "")?.value, 512);
  assert.ok(Number(value("f", "fool_rate")[0]!.value) > 80, `fool rate ${value("f", "fool_rate")[0]!.value}`);
  // g, trained only on x + δ labelled (y + 1) mod 4, classifies clean test data far above chance (25 %): paper B's
  // effect in miniature (90–100 % for model seeds 0–7 when this test was written).
  const [g] = value("g", "eval_accuracy");
  assert.ok(Number(g!.value) > 60, `g's clean accuracy ${g!.value}`);
  // The derived set: images in [0, 1], labels the next class of the source labels.
  const { tensors } = torch.loadSafetensors(join(reference, "datasets/f-next/train.safetensors"));
  const attack = torch.loadSafetensors(join(reference, "attacks/f-next/attack.safetensors")).tensors;
  try {
    const x = tensors.get("images")!;
    assert.deepEqual(x.shape, [512, 3, 16, 16]);
    assert.ok(x.min().item() >= 0 && x.max().item() <= 1);
    const y = attack.get("labels")!;
    assert.ok(torch.equal(tensors.get("labels")!, torch.where(y.add(1).ge(4), y.add(1).sub(4), y.add(1))));
  } finally {
    torch.dispose([...tensors.values(), ...attack.values()]);
  }
  const again = study(reference);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /0 jobs run, 5 already done/);
  assert.deepEqual(await studyContents(reference), expected);
  assert.deepEqual(debris(reference), []);
});

test("kill -9 at ≥ 5 moments (one in the middle of the derived dataset's write), then a rerun, gives the uninterrupted results and no debris", async () => {
  const dir = join(root, "killed");
  // One kill inside derive-dataset's write: the write stops halfway and waits to be killed.
  const blocked = await runUntilFault(dir, "datasets/f-next/train.safetensors");
  const halfWritten = readdirSync(join(dir, "datasets/f-next")).filter((f) => f.includes(".tmp-"));
  assert.equal(halfWritten.length, 1, "a half-written temporary file is there");
  await blocked.kill();
  let kills = 1;
  // Then kills at random moments of the remaining work, each run resuming where the last stopped.
  for (let attempt = 0; attempt < 12 && kills < 6; attempt++) {
    const child = spawn(process.execPath, studyArgs(dir), { stdio: "ignore" });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("exit", (code, signal) => r({ code, signal })));
    const timer = setTimeout(() => child.kill("SIGKILL"), 700 + Math.random() * 1000 * Math.max(seconds / 3, 0.5));
    const { code, signal } = await exited;
    clearTimeout(timer);
    if (signal === "SIGKILL") kills++;
    else {
      assert.equal(code, 0);
      break;
    }
  }
  assert.ok(kills >= 5, `only ${kills} runs were interrupted`);
  const rerun = study(dir);
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.deepEqual(await studyContents(dir), expected);
  assert.deepEqual(debris(dir), []);
});

test("two processes on one study folder: the second stops at once (exit 3) naming the first; after the first dies, the folder is taken over", async () => {
  const dir = join(root, "busy");
  const first = await runUntilFault(dir, "attacks/f-next/attack.safetensors");
  const second = study(dir);
  assert.equal(second.status, 3, second.stderr);
  assert.match(second.stderr, new RegExp(`study folder ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is in use by process ${first.child.pid} on host `));
  assert.equal(second.stderr.trim().split("\n").length, 1, "one line");
  await first.kill();
  const third = study(dir);
  assert.equal(third.status, 0, third.stderr);
  assert.deepEqual(await studyContents(dir), expected);
  assert.deepEqual(debris(dir), []);
});

test("a damaged output makes its job absent: it is redone (and only what depends on it), with the same results", async () => {
  const dir = join(root, "damaged");
  assert.equal(study(dir).status, 0);
  const file = join(dir, "datasets/f-next/train.safetensors");
  const trained = statSync(join(dir, "runs/g/checkpoints.json")).mtimeMs;
  truncateSync(file, 100);
  const r = study(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 jobs run, 4 already done/);
  assert.ok(statSync(file).size > 100);
  assert.equal(statSync(join(dir, "runs/g/checkpoints.json")).mtimeMs, trained, "g's training, keyed on the derived set's job, is not redone");
  assert.deepEqual(await studyContents(dir), expected);
  // A change that keeps the size is seen by --verify, which checks every output's SHA-256.
  const summary = join(dir, "attacks/f-next/summary.json");
  writeFileSync(summary, readFileSync(summary, "utf8").replace(/"checkpoint"/, '"checkpoinT"'));
  assert.match(study(dir).stdout, /0 jobs run, 5 already done/);
  const verified = spawnSync(process.execPath, [...studyArgs(dir), "--verify"], { encoding: "utf8" });
  assert.equal(verified.status, 0, verified.stderr);
  assert.match(verified.stdout, /redone: attacks\/f-next \(attacks\/f-next\/summary\.json has another SHA-256 than when written\)/);
  assert.match(verified.stdout, /1 jobs run, 4 already done/);
  assert.deepEqual(await studyContents(dir), expected);
});

test("a study spec file is checked before anything is written: a wrong attack option or job is refused with what is allowed (exit 2)", () => {
  const cases: [unknown, RegExp][] = [
    [{ ...CHAIN, jobs: CHAIN.jobs.map((j) => (j.kind === "attack-set" ? { ...j, inputs: { ...j.inputs, attack: { attack: "pgd", norm: "l2", eps: 2, options: { steps: 0 } } } } : j)) },
      /attacks\/f-next: inputs\.attack: pgd: option 'steps' = 0 is not allowed; allowed: an integer ≥ 1/],
    [{ ...CHAIN, jobs: CHAIN.jobs.map((j) => (j.kind === "attack-set" ? { ...j, inputs: { ...j.inputs, attack: { attack: "pgd", norm: "l0", eps: 2 } } } : j)) },
      /pgd: option 'norm' = "l0" is not allowed; allowed: "l1" \| "l2" \| "linf"/],
    [{ ...CHAIN, jobs: CHAIN.jobs.map((j) => (j.kind === "attack-set" ? { ...j, inputs: { ...j.inputs, attack: { attack: "pgd", norm: "l2", eps: 2, options: { stepz: 3 } } } } : j)) },
      /pgd: unknown option 'stepz'; options: preset, steps,/],
    [{ ...CHAIN, jobs: [{ ...CHAIN.jobs[0]!, kind: "frobnicate" }] }, /unknown job kind 'frobnicate'; kinds: train, attack-set, derive-dataset, measure, evaluate/],
    [{ ...CHAIN, jobs: [{ ...CHAIN.jobs[0]!, id: "../outside" }] }, /jobs\[0\]\.id: expected a relative folder path/],
    [{ ...CHAIN, jobs: [CHAIN.jobs[1]!] }, /attacks\/f-next' depends on 'runs\/f', which is not in the graph|depends on 'runs\/f'/],
  ];
  cases.forEach(([spec, message], i) => {
    const file = join(root, `bad-${i}.json`);
    writeFileSync(file, JSON.stringify(spec));
    const dir = join(root, `bad-${i}`);
    const r = spawnSync(process.execPath, [bin, "study", file, "--out", dir], { encoding: "utf8" });
    assert.equal(r.status, 2, `case ${i}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(dir), `case ${i}: nothing is created`);
  });
});
