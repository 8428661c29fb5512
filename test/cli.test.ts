import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 120_000 });

test("advdyn selfcheck trains a small model, learns, leaks nothing, exits 0", () => {
  const r = run("selfcheck", "--epochs", "3", "--json");
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.epochs.length, 3);
  assert.ok(result.epochs[2].loss < result.epochs[0].loss);
  assert.ok(result.testAccuracy > 0.9);
  assert.equal(result.leakedTensors, 0);
  assert.equal(result.passed, true);
  // One epoch is enough to judge: learning is measured against the untrained model's test loss.
  const one = JSON.parse(run("selfcheck", "--epochs", "1", "--json").stdout);
  assert.ok(one.testLoss.final < one.testLoss.initial && one.testAccuracy > 0.9);
  assert.equal(one.passed, true);
});

test("a bad option gets one line naming the option, the value and what is allowed, a pointer to --help, and exit 2", () => {
  for (const [args, message] of [
    [["selfcheck", "--epochs", "0"], /option '--epochs <n>' argument '0' is invalid\. expected an integer ≥ 1, got '0' \(advdyn selfcheck --help lists the options\)/],
    [["selfcheck", "--epochs", "-1"], /argument '-1' is invalid\. expected an integer ≥ 1/],
    [["selfcheck", "--seed", "1e20"], /argument '1e20' is invalid\. expected an integer ≤ 9007199254740991/],
    [["selfcheck", "--device", "tpu"], /option '--device <device>' argument 'tpu' is invalid\. Allowed choices are cpu, cuda\./],
    [["selfcheck", "--bogus"], /unknown option '--bogus'/],
    [["frobnicate"], /unknown command 'frobnicate' \(advdyn frobnicate --help/],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(" "));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: one line, got ${r.stderr}`);
  }
});

test("every command has its own help; train --model NAME --help lists the model's options with defaults", () => {
  for (const command of ["selfcheck", "train", "attack", "data", "study", "report", "demo"]) {
    for (const flag of ["--help", "-h"]) {
      const r = run(command, flag);
      assert.equal(r.status, 0, `${command} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: advdyn ${command}`), `${command} ${flag}`);
    }
  }
  const bwconv = run("train", "--model", "bwconv", "--help");
  assert.match(bwconv.stdout, /--kernel <value>\s+model bwconv: kernel size/);
  assert.match(bwconv.stdout, /--channels <value>[\s\S]*\(default\s+32\)/);
  assert.doesNotMatch(run("train", "--help").stdout, /--kernel/);
  const attack = run("attack", "--help").stdout;
  for (const name of ["pgd", "fmn", "cw", "paper-b-pgd", "eps-search"]) assert.match(attack, new RegExp(`\\n  ${name} \\(`), name);
  assert.match(run("--version").stdout, /^\d+\.\d+\.\d+\n$/);
});

test("scripts/gpu-check.sh skips cleanly, exit 0, on a machine without a CUDA GPU", { skip: spawnSync("sh", ["-c", "command -v nvidia-smi"]).status === 0 ? "this machine has nvidia-smi" : false }, () => {
  const r = spawnSync("bash", [fileURLToPath(new URL("../../scripts/gpu-check.sh", import.meta.url))], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^gpu-check: skipped: no CUDA GPU/);
});
