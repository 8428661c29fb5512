import assert from "node:assert/strict";
import { PerformanceObserver, constants } from "node:perf_hooks";
import { test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { torch } from "../src/index.js";

const { tidy, keep, dispose, memory } = torch;

test("tidy disposes intermediates, keeps what is returned or kept, nests, and cleans up on throw", () => {
  const before = memory().tensors;
  let kept!: torch.Tensor;
  const out = tidy(() => {
    const a = torch.ones([4]);
    kept = keep(a.mul(3));
    const inner = tidy(() => [a.add(1), { deep: a.add(2) }] as const);
    a.sub(1);
    return { sum: inner[0].add(inner[1].deep), list: [inner[0]] };
  });
  assert.equal(memory().tensors, before + 3, "sum, list[0] and kept survive");
  assert.deepEqual(out.sum.toArray(), [5, 5, 5, 5]);
  assert.deepEqual(kept.toArray(), [3, 3, 3, 3]);
  dispose([out, kept]);
  assert.equal(memory().tensors, before);
  assert.throws(() => tidy(() => { torch.ones([2]); throw new Error("inside"); }), /inside/);
  assert.equal(memory().tensors, before);
  assert.throws(() => tidy(() => Promise.resolve(1)), /must be synchronous/);
  assert.equal(memory().tensors, before);
});

test("dispose, `using` and memory() account for tensors and bytes", () => {
  const start = memory();
  {
    using t = torch.zeros([256], { dtype: "float64" });
    assert.equal(memory().tensors, start.tensors + 1);
    assert.equal(memory().bytes, start.bytes + 2048);
    assert.equal(t.numel, 256);
  }
  assert.deepEqual(memory(), start);
  const t = torch.ones([3]);
  t.dispose();
  t.dispose();
  assert.ok(t.isDisposed);
  assert.throws(() => t.add(1), /disposed/);
  assert.throws(() => torch.add(torch.ones([1]), t), /disposed/);
  assert.equal(String(t), "Tensor(disposed)");
  assert.equal(memory().tensors, start.tensors + 1, "the live operand above");
  dispose(torch.ones([1])); // (leaks the torch.ones([1]) operand above on purpose: the GC net frees it)
});

test("100,000 small-op iterations inside tidy leave tensor count and RSS flat", () => {
  const x = torch.randn([16, 16]);
  const y = torch.randn([16, 16]);
  const step = () => tidy(() => x.matmul(y).add(x).relu().sum().item());
  // Warm-up: the allocators' pools settle after ~40,000 iterations (measured), then RSS stays flat.
  for (let i = 0; i < 50_000; i++) step();
  const tensors = memory().tensors;
  const rss = process.memoryUsage.rss();
  for (let i = 0; i < 100_000; i++) step();
  assert.equal(memory().tensors, tensors);
  // Leaking even one 16×16 float tensor per iteration would add ≥ 1 KiB each (≥ 100 MB in all); the
  // bound leaves room for the JS heap's drift between collections.
  const perIteration = (process.memoryUsage.rss() - rss) / 100_000;
  assert.ok(perIteration < 100, `RSS grew by ${perIteration.toFixed(0)} bytes per iteration (a leaked 16×16 tensor is 1,024)`);
  dispose([x, y]);
});

test("a freed large block serves the next allocation of its size, with fresh contents", () => {
  const size = [1024, 1024]; // 4 MiB: cached (≥ 1 MiB)
  tidy(() => torch.full(size, 7).sum().item());
  const before = torch.allocatorCache();
  assert.ok(before.cachedBytes >= 4 << 20, "the freed block is held");
  const sum = tidy(() => torch.ones(size).sum().item());
  const after = torch.allocatorCache();
  assert.equal(after.hits, before.hits + 1);
  assert.equal(after.misses, before.misses);
  assert.equal(sum, 1024 * 1024);
});

/** Major (mark-compact) collections V8 runs while fn runs. */
async function majorCollections(fn: () => Promise<void>): Promise<number> {
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) count++;
  });
  observer.observe({ entryTypes: ["gc"] });
  await fn();
  await tick(); // gc entries are delivered asynchronously
  observer.disconnect();
  return count;
}

test("scoped tensors never make V8 collect; leaked ones still get collected under pressure", async () => {
  const x = torch.rand([2048, 1024]); // 8 MiB
  // Steps holding 128 MiB of scoped tensors at once (as a large model's training step does):
  // reported to V8 as external memory, these ran a mark-compact every step or two.
  const scoped = await majorCollections(async () => {
    for (let i = 0; i < 20; i++) {
      tidy(() => {
        let y = x;
        for (let k = 0; k < 16; k++) y = y.add(1);
        return y.sum().item();
      });
      await tick();
    }
  });
  assert.equal(scoped, 0, `${scoped} major collections during scoped work`);
  // The safety net: 100 undisposed 8 MiB tensors are 800 MB that V8 must know about and free.
  const start = memory().tensors;
  let most = 0;
  for (let i = 0; i < 100; i++) {
    x.add(1); // dropped, never disposed
    await tick();
    most = Math.max(most, memory().tensors - start);
  }
  assert.ok(most < 60, `${most} leaked 8 MiB tensors were alive at once: the GC is not told about them`);
  x.dispose();
});
