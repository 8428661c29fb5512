import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { torch } from "../src/index.js";

test("libtorch failures are TorchErrors with libtorch's message and no C++ backtrace", () => torch.tidy(() => {
  const a = torch.ones([2, 3]);
  const err = (() => { try { a.matmul(torch.ones([2, 3])); } catch (e) { return e as Error; } })();
  assert.ok(err instanceof torch.TorchError);
  assert.equal(err.name, "TorchError");
  assert.match(err.message, /^matmul: mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/);
  assert.doesNotMatch(err.message, /Exception raised from|frame #/);
}));

test("bad JS arguments are TypeErrors naming the argument", () => torch.tidy(() => {
  const a = torch.ones([2]);
  assert.throws(() => torch.add(a, "1" as never), /argument: expected a Tensor, got string 1/);
  assert.throws(() => a.reshape(1.5), (e: Error) => e instanceof TypeError && /reshape: argument 1\[0\]: expected an integer/.test(e.message));
  assert.throws(() => torch.zeros([2], { dtype: "half" as never }), TypeError);
  assert.throws(() => torch.cat([a, 3 as never]), /argument\[1\]: expected a Tensor/);
  assert.throws(() => a.sum(0, "yes" as never), /sum: argument 2: expected a boolean, got string/);
  assert.throws(() => new torch.Generator(-1), /seed must be a non-negative integer/);
  assert.throws(() => { a.grad = torch.ones([3]); }, /must match its tensor's shape/);
}));

test("10,000 random wrong calls in a child process end cleanly with JS errors only", () => {
  const child = fileURLToPath(new URL("./fuzz/fuzz-child.js", import.meta.url));
  const r = spawnSync(process.execPath, [child, "10000", "1234"], { encoding: "utf8", timeout: 300_000 });
  assert.equal(r.signal, null, `child killed by ${r.signal}\n${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 0, `child exited ${r.status}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  const summary = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(summary.calls, 10000);
  assert.ok(summary.errors.TypeError > 0 && summary.errors.TorchError > 0, JSON.stringify(summary));
  assert.deepEqual(Object.keys(summary.errors).filter((k) => !["TypeError", "TorchError", "RangeError", "Error"].includes(k)), []);
});
