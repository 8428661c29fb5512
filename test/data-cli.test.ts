import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { dataCommand } from "../src/cli/data.js";
import { UsageError } from "../src/cli/usage.js";
import { torch } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "advdyn-data-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the command, returning its exit code and what it printed. */
async function run(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    return { code: await dataCommand(args), out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

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
  assert.match((await run(["--help"])).out, /advdyn data get <cifar10\|cifar100\|mnist\|fashion-mnist> \[--dir DIR\]/);
});

test("data: bad values are UsageErrors naming the option and the allowed values", async () => {
  const cases: [string[], RegExp][] = [
    [[], /data: missing subcommand; expected get or info/],
    [["fetch"], /data: unknown subcommand 'fetch'; expected get or info/],
    [["get"], /data get: missing the dataset; expected one of cifar10, cifar100, mnist, fashion-mnist/],
    [["get", "svhn"], /data get: dataset: expected one of cifar10, cifar100, mnist, fashion-mnist, got 'svhn'/],
    [["get", "fourier-classes"], /expected one of cifar10, cifar100, mnist, fashion-mnist, got 'fourier-classes'/],
    [["get", "mnist", "cifar10"], /data get: expected one dataset name, got 2/],
    [["get", "mnist", "--data-dir", "x"], /Unknown option '--data-dir'/],
    [["get", "mnist", "--dir"], /--dir/],
    [["info", "imagenet"], /data info: dataset: expected one of cifar10, cifar100, mnist, fashion-mnist, fourier-classes, hidden-shortcut, orthogonal, got 'imagenet'/],
    [["info", "mnist", "--split", "val"], /--split: expected one of train, test, got 'val'/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(dataCommand(args), (e: Error) => e instanceof UsageError && message.test(e.message), args.join(" "));
  }
  // a missing file is not a usage mistake: a plain Error naming the file
  await assert.rejects(dataCommand(["info", "mnist", "--data-dir", dir]), (e: Error) => !(e instanceof UsageError) && /train-images-idx3-ubyte: missing/.test(e.message));
});
