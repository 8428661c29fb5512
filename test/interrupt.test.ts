// Ctrl-C and SIGTERM: a command stops at its next safe point (between training steps, attack
// steps, jobs; never inside a write), says how to resume, exits 130 and leaves nothing behind;
// rerunning the same command ends with what an uninterrupted run gives. A second Ctrl-C ends a
// command that has no safe point to reach at once.
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { torch } from "../src/index.js";
import { debris, studyContents } from "./helpers.js";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "advdyn-interrupt-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** Temporary files and locks anywhere under dir. */
/** Starts advdyn; resolves once `ready` holds (polled), with the child and its output so far. */
async function startUntil(args: string[], ready: (out: { stdout: string; stderr: string }) => boolean, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } }) as ChildProcessWithoutNullStreams;
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on("close", (code, signal) => r({ code, signal })));
  for (let i = 0; i < 600 && !ready(out); i++) {
    const done = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))]);
    if (done) throw new Error(`the command ended before it was interrupted: ${out.stderr}`);
  }
  return { child, out, exited };
}

const trainArgs = (out: string) => ["train", "--model", "fc", "--width", "256", "--dataset", "fourier-classes", "--train-examples", "2000", "--test-examples", "200",
  "--epochs", "3", "--batch-size", "32", "--out", out];

test("Ctrl-C during training: exit 130 with how to resume, no debris; the rerun ends with the weights of an uninterrupted run", async () => {
  const reference = join(root, "train-ref");
  assert.equal(spawnSync(process.execPath, [bin, ...trainArgs(reference)]).status, 0);
  const dir = join(root, "train");
  const run = await startUntil(trainArgs(dir), () => existsSync(join(dir, "checkpoints", "epoch-0001.safetensors")));
  const sent = performance.now();
  run.child.kill("SIGINT");
  const { code } = await run.exited;
  assert.equal(code, 130, run.out.stderr);
  assert.ok(performance.now() - sent < 5000, "stopped at the next step, not at the end");
  assert.match(run.out.stderr, /advdyn: interrupted; rerun the same command to resume\n$/);
  assert.deepEqual(debris(dir), []);
  const rerun = spawnSync(process.execPath, [bin, ...trainArgs(dir)], { encoding: "utf8" });
  assert.equal(rerun.status, 0, rerun.stderr);
  for (const epoch of ["0001", "0002", "0003"]) {
    const file = join("checkpoints", `epoch-${epoch}.safetensors`);
    const [a, b] = [dir, reference].map((d) => torch.loadSafetensors(join(d, file)).tensors);
    try {
      assert.deepEqual([...a!.keys()], [...b!.keys()]);
      for (const [k, t] of a!) assert.ok(torch.equal(t, b!.get(k)!), `${file}: ${k} differs from the uninterrupted run's`);
    } finally {
      torch.dispose([...a!.values(), ...b!.values()]);
    }
  }
});

test("SIGTERM during a study: exit 130, the folder released; the rerun gives the uninterrupted results", async () => {
  const args = (out: string) => ["study", "dynamics", "--scale", "smoke", "--out", out];
  const reference = join(root, "study-ref");
  assert.equal(spawnSync(process.execPath, [bin, ...args(reference)]).status, 0);
  const dir = join(root, "study");
  const run = await startUntil(args(dir), () => existsSync(join(dir, "jobs")) && readdirSync(join(dir, "jobs")).some((f) => f.endsWith(".json")));
  run.child.kill("SIGTERM");
  const { code } = await run.exited;
  assert.equal(code, 130, run.out.stderr);
  assert.match(run.out.stderr, /interrupted; rerun the same command to resume/);
  assert.deepEqual(debris(dir), []);
  const rerun = spawnSync(process.execPath, [bin, ...args(dir)], { encoding: "utf8" });
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.deepEqual(await studyContents(dir), await studyContents(reference));
});

test("a second Ctrl-C ends at once a command that has no safe point to reach", async () => {
  const dir = join(root, "stuck");
  // The fault hook blocks the process halfway through a write: no safe point follows.
  const run = await startUntil(trainArgs(dir), (out) => out.stderr.includes("ADVDYN_FAULT_WRITE"), { ADVDYN_FAULT_WRITE: "epoch-0001.safetensors" });
  run.child.kill("SIGINT");
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(run.child.exitCode, null, "the first Ctrl-C waits for a safe point");
  run.child.kill("SIGINT");
  const { signal } = await run.exited;
  assert.equal(signal, "SIGINT");
});
