// Every registered attack, from the command line and from a study spec, on a tiny trained model;
// wrong options refused with the allowed values in both.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type AttackRef, attackNames, createAttack, describeAttack, resolveAttack } from "../src/attacks/registry.js";
import type { TargetMode } from "../src/attacks/criteria.js";
import { OptionError } from "../src/util/schema.js";
import { ResultsDb } from "../src/store/db.js";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "advdyn-attacks-"));
after(() => rmSync(root, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 300_000 });

/** A quick configuration of each attack: its first norm, a budget, few steps. */
function quick(name: string): { ref: AttackRef; targets: TargetMode } {
  const d = describeAttack(name);
  const norm = d.norms.includes("l2") ? "l2" : d.norms[0]!;
  const eps = norm === "l0" ? 4 : norm === "linf" ? 8 / 255 : 1;
  const few: Record<string, Record<string, unknown>> = {
    cw: { binarySearchSteps: 2, steps: 5 }, "eps-search": { high: 2, searchSteps: 2 },
    "paper-b-pgd": norm === "l0" ? {} : { steps: 3 }, "sparse-l1": { steps: 3 }, "random-noise": {},
  };
  const options = few[name] ?? ("steps" in d.schema ? { steps: 3 } : {});
  return { ref: { attack: name, norm, eps: d.budget === "fixed" ? eps : null, options }, targets: d.targets === "targeted" ? "next" : "none" };
}

const flags = (o: Record<string, unknown>) => Object.entries(o).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v)]);

const run = join(root, "run");
before(() => {
  const t = cli("train", "--model", "fc", "--width", "16", "--dataset", "fourier-classes", "--train-examples", "64", "--test-examples", "16",
    "--epochs", "1", "--batch-size", "32", "--out", run);
  assert.equal(t.status, 0, t.stderr);
});

test("the registry covers every attack class, with norms, schemas and defaults that build", () => {
  assert.deepEqual(attackNames(), ["pgd", "bim", "fgm", "fgsm", "sparse-l1", "paper-b-pgd", "deepfool", "fmn", "cw", "ddn", "random-noise", "eps-search"]);
  for (const name of attackNames()) {
    const { ref } = quick(name);
    assert.ok(createAttack(ref).name.length > 0, name);
    // Defaults are filled in, so that equal attacks have equal references (and job keys).
    const resolved = resolveAttack(ref);
    for (const [k, s] of Object.entries(describeAttack(name).schema)) if (s.default !== undefined) assert.ok(k in resolved.options, `${name}.${k}`);
  }
  assert.match(createAttack({ attack: "pgd", norm: "linf", eps: 0.03, options: { preset: "madry" } }).name, /madry: 7 steps, step 0\.25·ε, random start/);
  assert.match(createAttack({ attack: "pgd", norm: "linf", eps: 0.03, options: { restarts: 3 } }).name, /×3$/);
});

test("every attack runs from the command line", () => {
  for (const name of attackNames()) {
    const { ref, targets } = quick(name);
    const eps = ref.eps === null ? [] : ["--eps", String(ref.eps)];
    const r = cli("attack", run, "--checkpoints", "best", "--attack", name, "--norm", ref.norm, ...eps, "--targeted", targets,
      "--examples", "8", "--batch-size", "8", ...flags(ref.options ?? {}), "--json");
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    const out = JSON.parse(r.stdout);
    assert.equal(out.summaries.length, 1, name);
    assert.equal(out.summaries[0].examples, 8, name);
  }
});

test("every attack runs from a study spec, each as an attack-set job on the same run", async () => {
  const tags = { dataset: "fourier-classes", model: "fc", seed: 0 };
  const spec = {
    study: "attacks",
    jobs: [
      { id: "runs/fc", kind: "train", tags, inputs: { model: { name: "fc", options: { width: 16 } }, dataset: { name: "fourier-classes", options: { fourierClasses: { size: 16, train: 64, test: 16 } } }, train: { epochs: 1, batchSize: 32, checkpointEveryIters: 0, earlyEpochs: 1 }, seed: 0 } },
      ...attackNames().map((name) => {
        const { ref, targets } = quick(name);
        return { id: `attacks/${name}`, kind: "attack-set", tags, deps: { run: "runs/fc" }, inputs: { key: name, attack: ref, checkpoint: "best", split: "test", examples: 8, batchSize: 8, targets, seed: 0 } };
      }),
    ],
  };
  const file = join(root, "attacks.json");
  writeFileSync(file, JSON.stringify(spec));
  const out = join(root, "study");
  const r = cli("study", file, "--out", out);
  assert.equal(r.status, 0, r.stderr);
  const db = await ResultsDb.open(join(out, "results.duckdb"));
  try {
    const rows = await db.query("SELECT attack, value FROM results WHERE quantity = 'examples' ORDER BY attack");
    assert.deepEqual(rows.map((x) => x.attack), [...attackNames()].sort());
    assert.ok(rows.every((x) => x.value === 8));
  } finally {
    db.close();
  }
});

test("a wrong attack option is refused with the allowed values: in the library, on the command line (exit 2), in a study spec (exit 2, nothing written)", () => {
  const bad: [AttackRef, RegExp][] = [
    [{ attack: "pgd", norm: "linf", eps: 0.03, options: { steps: 0 } }, /pgd: option 'steps' = 0 is not allowed; allowed: an integer ≥ 1/],
    [{ attack: "pgd", norm: "linf", eps: 0.03, options: { preset: "cleverhans" } }, /pgd: option 'preset' = "cleverhans" is not allowed; allowed: "foolbox" \| "foolbox-native-2020" \| "madry" \| "torchattacks"/],
    [{ attack: "deepfool", norm: "l1", eps: null }, /deepfool: option 'norm' = "l1" is not allowed; allowed: "l2" \| "linf"/],
    [{ attack: "pgd", norm: "linf", eps: 0 }, /pgd: option 'eps' = 0 is not allowed; allowed: a finite number > 0 \(pgd is a fixed-ε attack/],
    [{ attack: "paper-b-pgd", norm: "l0", eps: 2.5 }, /paper-b-pgd: option 'eps' = 2\.5 is not allowed; allowed: an integer: the number of coordinates/],
    [{ attack: "fmn", norm: "l2", eps: null, options: { gama: 0.1 } }, /fmn: unknown option 'gama'; options: steps, maxStepsize, minStepsize, gamma, restarts/],
    [{ attack: "jsma", norm: "l0", eps: 3 }, /unknown attack 'jsma'; attacks: pgd, bim, fgm/],
  ];
  for (const [ref, message] of bad) assert.throws(() => createAttack(ref), (e: Error) => e instanceof OptionError && message.test(e.message), JSON.stringify(ref));

  for (const [args, message] of [
    [["--attack", "pgd", "--eps", "8/255", "--steps", "0"], /pgd: option 'steps' = 0 is not allowed; allowed: an integer ≥ 1/],
    [["--attack", "deepfool", "--norm", "l2", "--frobnicate", "1"], /unknown option '--frobnicate'/],
    [["--attack", "deepfool", "--norm", "l2", "--stesp", "1"], /unknown option '--stesp' \(Did you mean --steps\?\)/],
    [["--attack", "pgd", "--eps", "8/255", "--preset", "cleverhans"], /allowed: "foolbox" \| "foolbox-native-2020"/],
    [["--attack", "paper-b-pgd", "--norm", "l2", "--eps", "1"], /paper-b-pgd is a targeted attack: choose targets/],
  ] as const) {
    const r = cli("attack", run, ...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  const tags = { dataset: "d", model: "m", seed: 0 };
  const spec = (attack: AttackRef) => ({ study: "bad", jobs: [
    { id: "runs/m", kind: "train", tags, inputs: { model: { name: "fc", options: {} }, dataset: { name: "fourier-classes" }, train: { epochs: 1, batchSize: 8 }, seed: 0 } },
    { id: "attacks/m", kind: "attack-set", tags, deps: { run: "runs/m" }, inputs: { key: "a", attack, checkpoint: "best", split: "test", examples: 8, batchSize: 8, targets: "none", seed: 0 } },
  ] });
  for (const [ref, message] of bad.slice(0, 3)) {
    const file = join(root, "bad.json");
    writeFileSync(file, JSON.stringify(spec(ref)));
    const out = join(root, "bad");
    const r = cli("study", file, "--out", out);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.ok(!existsSync(out), "nothing written");
  }
});
