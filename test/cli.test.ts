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
});

test("bad options name the option, print usage and exit 2", () => {
  for (const [args, message] of [
    [["selfcheck", "--epochs", "0"], /--epochs: expected an integer >= 1, got '0'/],
    [["selfcheck", "--device", "tpu"], /--device: expected cpu or cuda, got 'tpu'/],
    [["selfcheck", "--bogus"], /Unknown option '--bogus'/],
    [["frobnicate"], /unknown command 'frobnicate'/],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(" "));
    assert.match(r.stderr, message);
    assert.match(r.stderr, /usage: advdyn/);
  }
});
