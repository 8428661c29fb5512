// Paper B's perturbation sets at a size where holding them whole shows (470 MB here, 3.8 GB at
// paper scale): attack-set draws the noise and writes δ batch by batch, derive-dataset writes the
// set piece by piece from the memory-mapped attack-set, and training reads it memory-mapped, so
// anonymous memory grows by far less than the set in each.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { readFolderSplit } from "../src/data/folder.js";
import { torch } from "../src/index.js";
import { type AttackSetSummary, sourceExamples } from "../src/studies/kinds/attack-set.js";
import type { StudySpec } from "../src/store/study-folder.js";
import { RunDir } from "../src/store/run.js";
import { readRunConfig } from "../src/train/run-model.js";
import { readJson } from "../src/util/json.js";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const fixture = fileURLToPath(new URL("./fixtures/large-set.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "advdyn-large-"));
after(() => rmSync(root, { recursive: true, force: true }));

// 150 000 noise images of 1×28×28 (MNIST's shape): a 470 MB set, as many pieces of derive-dataset's.
const N = 150_000;
const SET_BYTES = N * 28 * 28 * 4;
const data = { name: "fourier-classes", options: { fourierClasses: { classes: 10, size: 28, channels: 1, train: 512, test: 128, amplitude: 0.2 } } };
const model = { name: "fc", options: { width: 64, activation: "relu" } };
const SPEC: StudySpec = {
  study: "large-set", scale: "smoke", description: "a source model to attack",
  models: [{ key: "f", label: "source model", ...model, linear: false }], tables: [],
  jobs: [{ id: "runs/f", kind: "train", tags: { dataset: "noise", model: "f", seed: 0 }, inputs: { model, dataset: data, train: { epochs: 1, batchSize: 64 }, seed: 0 } }],
};
// A targeted attack on the 150 000 noise images; its batches hold 3 MB of images each.
const ATTACK = { key: "pgd-l2", attack: { attack: "paper-b-pgd", norm: "l2", eps: 2, options: { steps: 2 } }, checkpoint: "best", split: "train", examples: N, batchSize: 1000, targets: "random", seed: 0, base: "uniform" };

/** The step run by the fixture in a fresh process: its anonymous and file-backed memory growth. */
function measured(...args: string[]): { anonGrowth: number; fileGrowth: number } {
  const out = execFileSync(process.execPath, [fixture, ...args], { encoding: "utf8", timeout: 600_000 });
  return JSON.parse(out.trim().split("\n").at(-1)!);
}
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

before(() => {
  writeFileSync(join(root, "spec.json"), JSON.stringify(SPEC));
  const r = spawnSync(process.execPath, [bin, "study", join(root, "spec.json"), "--out", join(root, "study")], { encoding: "utf8", timeout: 900_000 });
  assert.equal(r.status, 0, r.stderr);
});

test("attack-set attacks 470 MB of noise batch by batch: anonymous memory grows by far less than the set (it held the noise and δ whole before)", () => {
  const m = measured("attack", join(root, "study"), "runs/f", "sets/noise/attack", JSON.stringify(ATTACK));
  console.log(`attack-set: set ${mb(SET_BYTES)}, RssAnon +${mb(m.anonGrowth)} at most, RssFile +${mb(m.fileGrowth)}`);
  assert.ok(statSync(join(root, "study/sets/noise/attack/attack.safetensors")).size > SET_BYTES);
  assert.ok(m.anonGrowth < SET_BYTES / 3, `RssAnon grew by ${mb(m.anonGrowth)}`);
});

test("derive-dataset turns a 470 MB attack-set into its set piece by piece: anonymous memory grows by far less than the set, and the set is x + δ", () => {
  const study = join(root, "study");
  const m = measured("derive", study, "sets/noise/attack", "derived");
  console.log(`derive-dataset: set ${mb(SET_BYTES)}, RssAnon +${mb(m.anonGrowth)} at most, RssFile +${mb(m.fileGrowth)}`);
  assert.ok(statSync(join(study, "derived/train.safetensors")).size > SET_BYTES);
  assert.ok(m.anonGrowth < SET_BYTES / 4, `RssAnon grew by ${mb(m.anonGrowth)}`);
  // The set, compared whole with x + δ computed from the whole noise draw the attack-set saw.
  const summary = readJson<AttackSetSummary>(join(study, "sets/noise/attack/summary.json"))!;
  const run = new RunDir(join(study, summary.source.run));
  const source = sourceExamples(run, readRunConfig(run), summary.source);
  const attack = torch.loadSafetensors(join(study, "sets/noise/attack/attack.safetensors"), { mmap: true }).tensors;
  const derived = readFolderSplit(join(study, "derived"), "train");
  torch.tidy(() => {
    assert.ok(torch.equal(derived.images, source.images.add(attack.get("delta.0")!).clamp(0, 1)), "x + δ in [0, 1]");
    assert.ok(torch.equal(derived.labels, attack.get("targets")!), "the targets as labels");
  });
  torch.dispose([source, derived, ...attack.values()]);
});

test("training one epoch on the 470 MB set reads it memory-mapped: anonymous memory grows by far less than the set, mapped file pages by about the set", () => {
  const out = join(root, "trained");
  const m = measured("train", join(root, "study/derived"), out);
  console.log(`training: set ${mb(SET_BYTES)}, RssAnon +${mb(m.anonGrowth)} at most, RssFile +${mb(m.fileGrowth)}`);
  assert.ok(m.anonGrowth < SET_BYTES / 4, `RssAnon grew by ${mb(m.anonGrowth)}`);
  assert.ok(m.fileGrowth > SET_BYTES / 2, `RssFile grew by ${mb(m.fileGrowth)}: the batches were read through the mapping`);
  assert.equal(new RunDir(out).index().checkpoints.filter((c) => c.epoch === 1).length, 1, "the epoch was trained");
});
