import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, statSync, truncateSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { torch } from "../src/index.js";
import { values } from "./helpers.js";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 300_000 });

test("advdyn attack stores per-checkpoint perturbations and results, skips finished checkpoints", () => {
  const out = join(mkdtempSync(join(tmpdir(), "advdyn-attack-")), "run");
  const t = run("train", "--model", "fc", "--width", "64", "--dataset", "fourier-classes", "--train-examples", "256", "--test-examples", "64",
    "--epochs", "1", "--batch-size", "64", "--lr", "0.05", "--out", out);
  assert.equal(t.status, 0, t.stderr);
  const args = ["attack", out, "--eps", "2/255,8/255", "--steps", "10", "--examples", "48", "--batch-size", "32", "--json"];
  const a = run(...args);
  assert.equal(a.status, 0, a.stderr);
  const { key, summaries } = JSON.parse(a.stdout);
  assert.deepEqual(summaries.map((s: { epoch: number }) => s.epoch), [0, 1]);
  for (const s of summaries) {
    assert.equal(s.examples, 48);
    assert.ok(s.perEpsilon[1].successRate >= s.perEpsilon[0].successRate);
    assert.ok(s.perEpsilon[1].meanLinf <= 8 / 255 + 1e-6);
  }
  const dir = join(out, "attacks", key);
  const file = join(dir, "epoch-0001", "attack.safetensors");
  const { tensors } = torch.loadSafetensors(file);
  assert.deepEqual(tensors.get("delta.1")!.shape, [48, 3, 32, 32]);
  assert.ok(tensors.get("delta.1")!.abs().max().item() <= 8 / 255 + 1e-6);
  assert.deepEqual(tensors.get("success")!.shape, [48, 2]);
  // The adversarial class is the argmax of the stored adversarial logits.
  assert.deepEqual(tensors.get("logits")!.shape, [48, 2, 10]);
  assert.deepEqual(values(tensors.get("adversarial_class")!), values(tensors.get("logits")!.argmax(2)));
  torch.dispose([...tensors.values()]);
  const summary = join(dir, "epoch-0001", "summary.json");
  const before = statSync(summary).mtimeMs;
  const again = run(...args);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(statSync(summary).mtimeMs, before, "finished checkpoints are not recomputed");
  assert.deepEqual(JSON.parse(again.stdout).summaries, summaries);
  assert.ok(readdirSync(dir).includes("attack.json"));
  // A damaged output makes its checkpoint's job absent: it is redone, and gives the same results.
  truncateSync(file, 100);
  const repaired = run(...args);
  assert.equal(repaired.status, 0, repaired.stderr);
  assert.notEqual(statSync(summary).mtimeMs, before, "the damaged checkpoint was redone");
  assert.deepEqual(JSON.parse(repaired.stdout).summaries, summaries);
  // An L∞ budget that spans the whole input range is run, with a warning saying so.
  const wide = run("attack", out, "--checkpoints", "best", "--eps", "1", "--steps", "1", "--examples", "8", "--json");
  assert.equal(wide.status, 0, wide.stderr);
  assert.match(wide.stderr, /warning: an L∞ ε of 1 or more spans the whole \[0, 1\] range/);
  assert.equal(JSON.parse(readFileSync(join(dir, "attack.json"), "utf8")).examples, 48);
});

test("attack option errors name the option and exit 2", () => {
  for (const [args, message] of [
    [["attack", "/nonexistent-run"], /pgd: option 'eps' = null is not allowed; allowed: a finite number > 0 \(pgd is a fixed-ε attack: ε is its budget\)/],
    [["attack", "x", "--eps", "8/255", "--attack", "cw", "--norm", "linf"], /cw: option 'norm' = "linf" is not allowed; allowed: "l2"/],
    [["attack", "x", "--eps", "8/255", "--checkpoints", ""], /option '--checkpoints <which>' argument '' is invalid\. expected all, best, last or epochs like 0,1,5/],
    [["attack", "x", "--eps", "0"], /pgd: option 'eps' = 0 is not allowed; allowed: a finite number > 0/],
    [["attack", "x", "--eps", "eight"], /option '--eps <eps,...>' argument 'eight' is invalid\. 'eight' in 'eight': expected a number ≥ 0/],
  ] as const) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
