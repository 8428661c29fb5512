import assert from "node:assert/strict";
import { test } from "node:test";
import { torch } from "../src/index.js";
import { assertClose, values } from "./helpers.js";

const { tidy } = torch;

test("tensor() infers dtype and shape like PyTorch and reads back exactly", () => tidy(() => {
  const a = torch.tensor([[1, 2, 3], [4, 5, 6]]);
  assert.equal(a.dtype, "int64");
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual(a.toArray(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(torch.tensor([0.5, 1]).dtype, "float32");
  assert.deepEqual(torch.tensor([true, false]).toArray(), [true, false]);
  assert.equal(torch.tensor([1, 2], { dtype: "float64" }).dtype, "float64");
  assert.equal(torch.tensor(new Float64Array([1.25])).dtype, "float64");
  assert.deepEqual(torch.tensor(new Int32Array([1, 2, 3, 4]), { shape: [2, 2] }).toArray(), [[1, 2], [3, 4]]);
  assert.deepEqual(torch.tensor(new BigInt64Array([2n ** 40n])).toArray(), [2 ** 40]);
  assert.equal(torch.tensor(7).item(), 7);
}));

test("ragged arrays and wrong element types are refused", () => {
  assert.throws(() => torch.tensor([[1, 2], [3]]), /ragged/);
  assert.throws(() => torch.tensor(["a"] as never), /numbers or booleans/);
  assert.throws(() => torch.tensor([1], { dtype: "int16" as never }), /dtype: expected one of/);
  assert.throws(() => torch.zeros([2], { device: "tpu" as never }), /device: expected/);
});

test("every dtype converts and round-trips through toTypedArray", () => tidy(() => {
  const src = torch.tensor([0, 1.5, -2, 3], { dtype: "float64" });
  const expect: Record<string, number[]> = {
    float32: [0, 1.5, -2, 3], float64: [0, 1.5, -2, 3], int64: [0, 1, -2, 3], int32: [0, 1, -2, 3],
    bool: [0, 1, 1, 1],
  };
  for (const [dt, v] of Object.entries(expect)) {
    const t = src.to(dt as torch.DType);
    assert.equal(t.dtype, dt);
    assert.deepEqual(values(t), v, dt);
  }
  assert.deepEqual(values(src.abs().to("uint8")), [0, 1, 2, 3]);
  const c = src.to("complex64");
  assert.equal(c.dtype, "complex64");
  assert.deepEqual(values(torch.viewAsReal(c)).slice(), [0, 0, 1.5, 0, -2, 0, 3, 0]);
  assert.deepEqual(values(torch.real(c)), [0, 1.5, -2, 3]);
}));

test("factories: zeros, ones, full, empty, arange, linspace, eye and *_like", () => tidy(() => {
  assert.deepEqual(torch.zeros([2, 2]).toArray(), [[0, 0], [0, 0]]);
  assert.deepEqual(torch.ones([3], { dtype: "int32" }).toArray(), [1, 1, 1]);
  assert.deepEqual(torch.full([2], 2.5).toArray(), [2.5, 2.5]);
  assert.deepEqual(torch.empty([4, 5]).shape, [4, 5]);
  assert.deepEqual(torch.arange(5).toArray(), [0, 1, 2, 3, 4]);
  assert.equal(torch.arange(5).dtype, "int64");
  assertClose(torch.arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75]);
  assertClose(torch.linspace(-1, 1, 5), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual(torch.eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);
  const base = torch.ones([2, 3], { dtype: "float64" });
  for (const t of [torch.zerosLike(base), torch.onesLike(base), torch.fullLike(base, 4), torch.randLike(base)]) {
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.dtype, "float64");
  }
  assert.equal(torch.zeros([2], { requiresGrad: true }).requiresGrad, true);
}));

test("seeded generators: same seed, same draws; state save/restore resumes the sequence", () => tidy(() => {
  const g1 = new torch.Generator(123);
  const g2 = new torch.Generator(123);
  assert.deepEqual(values(torch.randn([5], { generator: g1 })), values(torch.randn([5], { generator: g2 })));
  const state = g1.getState();
  const next = values(torch.rand([4], { generator: g1 }));
  g1.setState(state);
  assert.deepEqual(values(torch.rand([4], { generator: g1 })), next);
  torch.manualSeed(0);
  // PyTorch: torch.manual_seed(0); torch.randn(3) -> [1.5410, -0.2934, -2.1788]
  assertClose(torch.randn([3]), [1.541, -0.2934, -2.1788], 1e-4);
  g1.dispose();
  g2.dispose();
}));

test("random draws have the right ranges and distributions", () => tidy(() => {
  const g = new torch.Generator(7);
  const u = values(torch.rand([20000], { generator: g }));
  assert.ok(u.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(u.reduce((a, b) => a + b) / u.length - 0.5) < 0.01);
  const n = torch.randn([20000], { generator: g, dtype: "float64" });
  assert.ok(Math.abs(n.mean().item()) < 0.03);
  assert.ok(Math.abs(n.std().item() - 1) < 0.03);
  const r = values(torch.randint(3, 7, [1000], { generator: g }));
  assert.ok(r.every((x) => Number.isInteger(x) && x >= 3 && x < 7));
  assert.deepEqual(new Set(r).size, 4);
  const p = values(torch.randperm(50, { generator: g }));
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  const b = values(torch.bernoulli(torch.full([10000], 0.3, { dtype: "float64" }), { generator: g }));
  assert.ok(b.every((x) => x === 0 || x === 1));
  assert.ok(Math.abs(b.reduce((a: number, c) => a + c, 0) / b.length - 0.3) < 0.02);
  g.dispose();
}));

test("toString is readable and summarises large tensors", () => tidy(() => {
  assert.equal(torch.tensor([[1, 2], [3, 4]], { dtype: "float32" }).toString(),
    "tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]], shape=[2, 2], dtype=float32)");
  assert.equal(torch.zeros([100, 100]).toString(), "tensor(shape=[100, 100], dtype=float32)");
  assert.equal(torch.tensor([true]).toString(), "tensor([true], shape=[1], dtype=bool)");
}));

test("devices: cuda availability is reported, and a missing CUDA device is a TorchError, not a crash", () => tidy(() => {
  assert.equal(typeof torch.cuda.isAvailable(), "boolean");
  const t = torch.ones([2]);
  assert.equal(t.device, "cpu");
  if (!torch.cuda.isAvailable()) assert.throws(() => t.to("cuda"), torch.TorchError);
  else assert.equal(t.to("cuda").device, "cuda:0");
}));

test("threads can be read and set", () => {
  const n = torch.getNumThreads();
  assert.ok(n >= 1);
  torch.setNumThreads(1);
  assert.equal(torch.getNumThreads(), 1);
  torch.setNumThreads(n);
  assert.throws(() => torch.setNumThreads(0), /thread count/);
});
