import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { CommanderError } from "commander";
import { torch } from "../src/index.js";
import { runCli } from "./helpers.js";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "advdyn-data-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = async (args: string[]) => ({ code: 0, out: await runCli(["data", ...args]) });

test("data info describes each split of a dataset and frees it", async () => {
  const record = (label: number) => Buffer.concat([Buffer.from([label]), Buffer.alloc(3072)]);
  for (const i of [1, 2, 3, 4, 5]) writeFileSync(join(dir, `data_batch_${i}.bin`), Buffer.concat([record(i), record(i)]));
  writeFileSync(join(dir, "test_batch.bin"), record(0));
  const before = torch.memory().tensors;
  const { code, out } = await run(["info", "cifar10", "--data-dir", dir]);
  assert.equal(code, 0);
  assert.equal(out, [
    "cifar10 train: 10 examples, uint8 3×32×32, 10 classes",
    "  examples per class: 0 2 2 2 2 2 0 0 0 0",
    "  normalization: mean 0.4914 0.4822 0.4465, std 0.247 0.2435 0.2616",
    "cifar10 test: 1 examples, uint8 3×32×32, 10 classes",
    "  examples per class: 1 0 0 0 0 0 0 0 0 0",
    "  normalization: mean 0.4914 0.4822 0.4465, std 0.247 0.2435 0.2616",
  ].join("\n"));
  const synthetic = await run(["info", "orthogonal", "--split", "test"]);
  assert.match(synthetic.out, /^orthogonal-uniform test: 1000 examples, float32 10000, 2 classes\n {2}examples per class: \d+ \d+$/);
  assert.equal(torch.memory().tensors, before);
  await assert.rejects(run(["get", "--help"]), (e: Error) => e instanceof CommanderError && e.exitCode === 0);
});

test("data: bad values are usage errors naming the option and the allowed values", async () => {
  const cases: [string[], RegExp][] = [
    [["fetch"], /unknown command 'fetch'/],
    [["get"], /missing required argument 'name'/],
    [["get", "svhn"], /'svhn' is invalid for argument 'name'\. Allowed choices are cifar10, cifar100, mnist, fashion-mnist/],
    [["get", "fourier-classes"], /Allowed choices are cifar10, cifar100, mnist, fashion-mnist/],
    [["get", "mnist", "cifar10"], /too many arguments/],
    [["get", "mnist", "--data-dir", "x"], /unknown option '--data-dir'/],
    [["get", "mnist", "--dir"], /option '--dir <dir>' argument missing/],
    [["info", "imagenet"], /'imagenet' is invalid for argument 'name'\. Allowed choices are cifar10, cifar100, mnist, fashion-mnist, fourier-classes, hidden-shortcut, orthogonal/],
    [["info", "mnist", "--split", "val"], /argument 'val' is invalid\. Allowed choices are train, test/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(run(args), (e: Error) => e instanceof CommanderError && e.exitCode !== 0 && message.test(e.message), args.join(" "));
  }
  // a missing file is not a usage mistake: a plain Error naming the file
  await assert.rejects(run(["info", "mnist", "--data-dir", dir]), (e: Error) => !(e instanceof CommanderError) && /train-images-idx3-ubyte: missing/.test(e.message));
});

// `advdyn data get` itself, against a local HTTP server serving Debian's Fashion-MNIST files (one
// of the accepted forms of the set: the same files re-compressed), as a mirror.
const DEBIAN = "/usr/share/datasets/fashion-mnist";
const noDebian = !existsSync(DEBIAN) && !process.env.ADVDYN_REQUIRE_SYSTEM_DATA
  ? `${DEBIAN} not installed (apt-get install dataset-fashion-mnist); set ADVDYN_REQUIRE_SYSTEM_DATA=1 to make this a failure` : false;

test("advdyn data get: from a mirror, verified; a rerun checks what is there; a damaged file is named and fetched again; Ctrl-C leaves nothing", { skip: noDebian }, async () => {
  const requests: string[] = [];
  let slow = false;
  const server = http.createServer((req, res) => {
    requests.push(req.url!);
    const path = join(DEBIAN, req.url!.slice(1));
    if (!existsSync(path)) return void res.writeHead(404).end();
    const body = readFileSync(path);
    res.writeHead(200, { "content-length": body.length });
    if (!slow) return void res.end(body);
    // Trickled, so that the client can be interrupted in the middle.
    let at = 0;
    const timer = setInterval(() => {
      if (res.destroyed || at >= body.length) return clearInterval(timer);
      res.write(body.subarray(at, (at += 64 * 1024)));
      if (at >= body.length) res.end();
    }, 20);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const target = join(dir, "mirror");
  const get = (...args: string[]) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, "data", "get", "fashion-mnist", "--dir", target, ...args], { env: { ...process.env, ADVDYN_DATA_MIRROR: "" } });
    const out = { stdout: "", stderr: "" };
    child.stdout.on("data", (d: Buffer) => (out.stdout += d));
    child.stderr.on("data", (d: Buffer) => (out.stderr += d));
    child.on("close", (code) => resolve({ code, ...out }));
  });
  try {
    const first = await get("--mirror", mirror);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /fashion-mnist: fetched train-images-idx3-ubyte\.gz, train-labels-idx1-ubyte\.gz, t10k-images-idx3-ubyte\.gz, t10k-labels-idx1-ubyte\.gz; verified and ready in/);
    requests.length = 0;
    const again = await get("--mirror", mirror);
    assert.match(again.stdout, /already present and verified/);
    assert.deepEqual(requests, [], "nothing fetched");
    const labels = join(target, "fashion-mnist", "t10k-labels-idx1-ubyte.gz");
    truncateSync(labels, 100);
    const repaired = await get("--mirror", mirror);
    assert.equal(repaired.code, 0, repaired.stderr);
    assert.match(repaired.stdout, new RegExp(`damaged: ${labels.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: 100 bytes, expected 5125; repaired`));
    assert.deepEqual(requests, ["/t10k-labels-idx1-ubyte.gz"], "only the damaged file");
    // The mirror can come from the environment; an interrupted transfer leaves no partial file.
    rmSync(join(target, "fashion-mnist", "train-images-idx3-ubyte.gz"));
    slow = true;
    const child = spawn(process.execPath, [bin, "data", "get", "fashion-mnist", "--dir", target], { env: { ...process.env, ADVDYN_DATA_MIRROR: mirror } });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const closed = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    while (!readdirSync(join(target, "fashion-mnist")).some((f) => f.endsWith(".part"))) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    assert.equal(await closed, 130, stderr);
    assert.match(stderr, /interrupted; rerun the same command to resume/);
    assert.deepEqual(readdirSync(join(target, "fashion-mnist")).filter((f) => f.endsWith(".part")), []);
  } finally {
    server.close();
  }
  const data = (await import("../src/data/index.js")).loadDataset("fashion-mnist", { dataDir: target, split: "test" });
  assert.deepEqual(data.images.shape, [10000, 1, 28, 28]);
  torch.dispose(data);
});
