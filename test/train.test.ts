import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { torch } from "../src/index.js";
import { RunDir } from "../src/store/run.js";
import { values } from "./helpers.js";

const worker = fileURLToPath(new URL("./fixtures/train-worker.js", import.meta.url));
const runWorker = (out: string, extra: string[] = []) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>((resolve) => {
    const p = spawn(process.execPath, [worker, out, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    p.stderr.on("data", (d) => (stderr += d));
    p.stdout.on("data", (d) => {
      stdout += d;
      // The worker prints "step N" after each optimizer step; kill -9 it mid-epoch when asked.
      const kill = extra.find((e) => e.startsWith("--kill-at="));
      if (kill && stdout.includes(`step ${kill.split("=")[1]}\n`)) p.kill("SIGKILL");
    });
    p.on("close", (code, signal) => resolve({ code, signal, stderr, stdout }));
  });

const finalWeights = (out: string) => {
  const { tensors } = torch.loadSafetensors(new RunDir(out).checkpointPath(RunDir.epochFile(4)));
  const flat = [...tensors.entries()].sort(([a], [b]) => a.localeCompare(b)).flatMap(([, t]) => values(t));
  torch.dispose([...tensors.values()]);
  return flat;
};

test("checkpoints at epoch 0, every epoch and every N early iterations, with metrics and a best epoch", async () => {
  const out = mkdtempSync(join(tmpdir(), "advdyn-train-"));
  const r = await runWorker(out);
  assert.equal(r.code, 0, r.stderr);
  const files = readdirSync(join(out, "checkpoints")).sort();
  assert.deepEqual(files.filter((f) => f.startsWith("epoch")), [0, 1, 2, 3, 4].map(RunDir.epochFile));
  assert.deepEqual(files.filter((f) => f.startsWith("iter")), [3, 6].map(RunDir.iterationFile), "every 3 steps during epoch 1 (8 steps)");
  const idx = new RunDir(out).index();
  assert.equal(idx.checkpoints.length, 7);
  const last = idx.checkpoints[idx.checkpoints.length - 1]!;
  assert.equal(last.epoch, 4);
  assert.ok(last.testAccuracy > idx.checkpoints[0]!.testAccuracy, "it learns");
  assert.equal(idx.best, idx.checkpoints.filter((c) => c.file.startsWith("epoch")).sort((a, b) => b.testAccuracy - a.testAccuracy)[0]!.file);
  assert.ok(existsSync(join(out, "state.safetensors")));
});

for (const mode of [[], ["--adversarial"], ["--keep-best"]]) {
  test(`kill -9 mid-epoch, rerun: the same final weights as an uninterrupted run${mode.length ? ` (${mode[0]!.slice(2)})` : ""}`, async () => {
    const whole = mkdtempSync(join(tmpdir(), "advdyn-whole-"));
    const cut = mkdtempSync(join(tmpdir(), "advdyn-cut-"));
    assert.equal((await runWorker(whole, mode)).code, 0);
    const killed = await runWorker(cut, ["--kill-at=13", ...mode]);
    assert.equal(killed.signal, "SIGKILL");
    assert.ok(!existsSync(new RunDir(cut).checkpointPath(RunDir.epochFile(4))));
    const resumed = await runWorker(cut, mode);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /resumed from epoch 1/);
    assert.deepEqual(finalWeights(cut), finalWeights(whole));
    const metrics = (out: string) => new RunDir(out).index().checkpoints.map((c) => [c.testLoss, c.trainLoss, c.robustAccuracy]);
    assert.deepEqual(metrics(cut), metrics(whole));
    const robust = new RunDir(whole).index().checkpoints.filter((c) => c.file.startsWith("epoch")).map((c) => c.robustAccuracy);
    if (mode[0] === "--keep-best") {
      // Every checkpoint's metrics stay; the files are the best epoch's and the last's.
      const index = new RunDir(cut).index();
      const files = readdirSync(join(cut, "checkpoints")).filter((f) => f.endsWith(".safetensors")).sort();
      assert.deepEqual(files, [...new Set([index.best!, RunDir.epochFile(4)])].sort());
      assert.equal(index.checkpoints.length, 7);
      assert.deepEqual(index.checkpoints.filter((c) => !c.removed).map((c) => c.file).sort(), files);
    } else if (mode.length) {
      assert.ok(robust.every((r) => typeof r === "number" && r >= 0 && r <= 1), "robust accuracy at every epoch");
      const last = new RunDir(whole).index().checkpoints.at(-1)!;
      assert.ok(last.robustAccuracy! < last.testAccuracy, `an attack lowers accuracy (${last.robustAccuracy} vs ${last.testAccuracy})`);
    } else {
      assert.ok(robust.every((r) => r === undefined));
    }
  });
}

test("a NaN loss stops training with a clear message and keeps the last checkpoint", async () => {
  const out = mkdtempSync(join(tmpdir(), "advdyn-nan-"));
  const r = await runWorker(out, ["--lr=1e30"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /training diverged: the loss is (NaN|Infinity) at epoch \d+/);
  assert.ok(existsSync(new RunDir(out).checkpointPath(RunDir.epochFile(0))));
});
