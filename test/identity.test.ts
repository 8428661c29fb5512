// The data are part of every job's inputs: the same command on another data folder never reuses
// the first folder's results (it runs new jobs or refuses, naming what changed).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { uniform } from "./helpers.js";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "advdyn-identity-"));
after(() => rmSync(root, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 300_000 });

/** A CIFAR-10 binary folder of random images (60 per training batch, 64 test), different for each seed. */
function cifarFolder(name: string, seed: number): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const batch = (n: number, s: number) => Buffer.concat(Array.from({ length: n }, (_, i) =>
    Buffer.concat([Buffer.from([i % 10]), Buffer.from(uniform(3072, s * 1000 + i, 0, 256).map(Math.floor))])));
  for (const i of [1, 2, 3, 4, 5]) writeFileSync(join(dir, `data_batch_${i}.bin`), batch(60, seed * 10 + i));
  writeFileSync(join(dir, "test_batch.bin"), batch(64, seed * 10 + 9));
  return dir;
}

const a = cifarFolder("A", 1);
const b = cifarFolder("B", 2);

test("a study on data folder A, then B into the same folder: refused, naming the data identity; never A's numbers", () => {
  const out = join(root, "study");
  const args = ["study", "ifr", "--scale", "smoke", "--models", "fc-linear", "--dataset", "cifar10", "--out", out];
  const first = cli(...args, "--data-dir", a);
  assert.equal(first.status, 0, first.stderr);
  const again = cli(...args, "--data-dir", a);
  assert.match(again.stdout, /0 jobs run, 2 already done/);
  const other = cli(...args, "--data-dir", b);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /run\.json: dataset\.identity is "sha256:[0-9a-f]{64}" here, "sha256:[0-9a-f]{64}" now/);
  assert.doesNotMatch(other.stdout, /already done/);
});

test("advdyn train into a run folder trained on other data is refused; advdyn attack on other data runs anew", () => {
  const run = join(root, "run");
  const train = (dir: string) => cli("train", "--model", "fc", "--width", "16", "--dataset", "cifar10", "--data-dir", dir, "--epochs", "1", "--batch-size", "60", "--out", run);
  assert.equal(train(a).status, 0);
  const other = train(b);
  assert.equal(other.status, 1);
  assert.match(other.stderr, /run\.json: dataset\.identity is /);
  const attack = (dir: string) => cli("attack", run, "--checkpoints", "best", "--eps", "8/255", "--steps", "2", "--examples", "16", "--data-dir", dir, "--json");
  const withA = attack(a);
  assert.equal(withA.status, 0, withA.stderr);
  const summary = join(run, "attacks", JSON.parse(withA.stdout).key, "epoch-0001", "summary.json");
  const at = statSync(summary).mtimeMs;
  assert.equal(attack(a).status, 0);
  assert.equal(statSync(summary).mtimeMs, at, "the same data: nothing recomputed");
  const withB = attack(b);
  assert.equal(withB.status, 0, withB.stderr);
  assert.notEqual(statSync(summary).mtimeMs, at, "other data: the checkpoint is attacked again");
});
