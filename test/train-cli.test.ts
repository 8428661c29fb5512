import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 300_000 });

test("advdyn train writes a resumable run folder with PyTorch-readable checkpoints", () => {
  const out = join(mkdtempSync(join(tmpdir(), "advdyn-cli-")), "run");
  const args = ["train", "--model", "bwconv", "--channels", "8", "--activation", "linear", "--dataset", "fourier-classes",
    "--train-examples", "512", "--test-examples", "256", "--epochs", "2", "--batch-size", "64", "--lr", "0.01", "--out", out, "--json"];
  const r = run(...args);
  assert.equal(r.status, 0, r.stderr);
  const index = JSON.parse(r.stdout);
  assert.deepEqual(index.checkpoints.map((c: { epoch: number }) => c.epoch), [0, 1, 2]);
  assert.ok(index.checkpoints[2].testAccuracy > index.checkpoints[0].testAccuracy);
  const config = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
  assert.equal(config.model.options.channels, 8);
  assert.equal(config.optim.schedule, "paper-a");
  assert.ok(existsSync(join(out, "checkpoints", "epoch-0002.safetensors")));
  // A finished run reruns as a no-op; a different configuration in the same folder is refused.
  const again = run(...args);
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout).checkpoints, index.checkpoints);
  const other = run(...args.map((a) => (a === "0.01" ? "0.02" : a)));
  assert.equal(other.status, 1);
  assert.match(other.stderr, /holds a run with another configuration/);
});

test("bad train options name the option and exit 2", () => {
  for (const [args, message] of [
    [["--model", "resnet50", "--out", "x"], /--model: expected one of fc, lc/],
    [["--model", "bwconv", "--kernel", "4", "--out", "x"], /option 'kernel' = 4 is not allowed/],
    [["--model", "fc", "--widht", "10", "--out", "x"], /unknown option --widht \(model fc takes: .*width/],
    [["--model", "fc", "--dataset", "imagenet", "--out", "x"], /--dataset: expected one of cifar10/],
    [["--model", "fc", "--lr", "fast", "--out", "x"], /--lr: expected a number/],
    [["--model", "fc"], /--out RUN \(the run folder\) is required/],
  ] as const) {
    const cwd = mkdtempSync(join(tmpdir(), "advdyn-bad-train-"));
    const r = spawnSync(process.execPath, [bin, "train", ...args], { encoding: "utf8", cwd });
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.deepEqual(readdirSync(cwd), [], `${args.join(" ")} created files`);
  }
});

test("a missing dataset folder is a clear error naming the file", () => {
  const r = run("train", "--model", "fc", "--dataset", "cifar10", "--data-dir", "/nonexistent", "--out", join(tmpdir(), "x"));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /nonexistent.*data_batch_1\.bin|data_batch_1\.bin.*nonexistent/);
});
