import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

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
    [["--model", "resnet50", "--out", "x"], /option '--model <name>' argument 'resnet50' is invalid\. Allowed choices are fc, lc/],
    [["--model", "bwconv", "--kernel", "4", "--out", "x"], /option 'kernel' = 4 is not allowed/],
    [["--model", "fc", "--widht", "10", "--out", "x"], /unknown option '--widht' \(Did you mean --width\?\)/],
    [["--model", "fc", "--dataset", "imagenet", "--out", "x"], /argument 'imagenet' is invalid\. expected one of cifar10, .*or a dataset folder/],
    [["--model", "fc", "--lr", "fast", "--out", "x"], /option '--lr <x>' argument 'fast' is invalid\. expected a number > 0/],
    [["--model", "fc", "--epochs", "-1", "--out", "x"], /option '--epochs <n>' argument '-1' is invalid\. expected an integer ≥ 1/],
    [["--model", "fc"], /required option '--out <run>' not specified/],
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

test("one process per run folder: a second train stops at once (exit 3); a killed one's half-written files are removed by the next run", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "advdyn-busy-run-")), "run");
  const args = ["train", "--model", "fc", "--width", "32", "--train-examples", "256", "--test-examples", "64", "--epochs", "2", "--batch-size", "64", "--out", out];
  // The first one stops halfway through writing epoch 1's checkpoint, holding the folder.
  const first = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ADVDYN_FAULT_WRITE: "epoch-0001.safetensors" } });
  let stderr = "";
  first.stderr.on("data", (d: Buffer) => (stderr += d));
  while (!stderr.includes("ADVDYN_FAULT_WRITE")) await new Promise((r) => setTimeout(r, 50));
  const second = run(...args);
  assert.equal(second.status, 3, second.stderr);
  assert.match(second.stderr, new RegExp(`run folder ${out.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is in use by process ${first.pid} on host `));
  first.kill("SIGKILL");
  await new Promise((r) => first.on("close", r));
  assert.equal(readdirSync(join(out, "checkpoints")).filter((f) => f.includes(".tmp-")).length, 1, "the killed write's temporary file");
  const third = run(...args);
  assert.equal(third.status, 0, third.stderr);
  assert.deepEqual(readdirSync(out, { recursive: true }).filter((f) => /\.tmp-|\.lock/.test(String(f))), [], "no debris");
});

test("advdyn --help and --version load none of the commands' modules (only the command table)", () => {
  // A module hook that appends every module the process resolves to a file.
  const dir = mkdtempSync(join(tmpdir(), "advdyn-modules-"));
  const list = join(dir, "modules.txt");
  writeFileSync(join(dir, "hooks.mjs"), `import { appendFileSync } from "node:fs";
export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); appendFileSync(${JSON.stringify(list)}, r.url + "\\n"); return r; }`);
  writeFileSync(join(dir, "register.mjs"), `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});`);
  const modules = (args: string[]) => {
    writeFileSync(list, "");
    const r = spawnSync(process.execPath, ["--import", pathToFileURL(join(dir, "register.mjs")).href, bin, ...args], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return readFileSync(list, "utf8").split("\n").filter((u) => u.includes("/dist/src/"));
  };
  for (const args of [["--help"], ["--version"]]) {
    const ours = modules(args);
    assert.ok(ours.some((u) => u.endsWith("/cli/main.js")), `${args}: the hook saw the program`);
    assert.deepEqual(ours.filter((u) => /\/(models|attacks|studies|torch\/index|cli\/(train|study|attack))\b/.test(u)), [], `${args}`);
  }
  assert.ok(modules(["train", "--help"]).some((u) => u.includes("/models/")), "a command's help loads its command");
});

test("commands that compute nothing (help, version, usage errors) do not load libtorch or the database engine", () => {
  // A preload that reports every native module the process loads.
  const dir = mkdtempSync(join(tmpdir(), "advdyn-lazy-"));
  const hook = join(dir, "hook.cjs");
  writeFileSync(hook, `const d = process.dlopen; const loaded = []; process.dlopen = function (m, f, ...a) { loaded.push(f); return d.call(this, m, f, ...a); };
process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(join(dir, "loaded.json"))}, JSON.stringify(loaded)));`);
  for (const args of [["--version"], ["--help"], ["train", "--help"], ["train", "--model", "bwconv", "--help"], ["attack", "--help"], ["study", "frobnicate"], ["train", "--model", "fc", "--lr", "x", "--out", "y"]]) {
    const r = spawnSync(process.execPath, ["--require", hook, bin, ...args], { encoding: "utf8" });
    assert.ok(r.status === 0 || r.status === 2, `${args.join(" ")}: ${r.stderr}`);
    const loaded = JSON.parse(readFileSync(join(dir, "loaded.json"), "utf8")) as string[];
    assert.deepEqual(loaded.filter((f) => /advdyn\.node|duckdb/.test(f)), [], `${args.join(" ")} loaded ${loaded.join(", ")}`);
  }
  // …and one that computes does.
  spawnSync(process.execPath, ["--require", hook, bin, "selfcheck", "--epochs", "1", "--json"]);
  assert.ok((JSON.parse(readFileSync(join(dir, "loaded.json"), "utf8")) as string[]).some((f) => f.endsWith("advdyn.node")));
});
