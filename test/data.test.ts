import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { gzipSync } from "node:zlib";
import { optim, torch } from "../src/index.js";
import * as data from "../src/data/index.js";
import type { Dataset } from "../src/data/index.js";
import { assertClose, values } from "./helpers.js";

const F = torch.nn.functional;
const root = mkdtempSync(join(tmpdir(), "advdyn-data-test-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => {
  const d = join(root, `d${dirs++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

/** Asserts fn creates no tensor that outlives it. */
function noLeak<R>(fn: () => R): R {
  const before = torch.memory().tensors;
  const r = fn();
  assert.equal(torch.memory().tensors, before, "tensors leaked");
  return r;
}

// ---- hand-built files ----

const PIXELS = 3072;
/** Pixel k of record r (in file order across the split): deterministic, distinct between records. */
const pixel = (r: number, k: number) => (r * 31 + k * 7) % 256;

function cifarRecords(first: number, count: number, labelBytes: (r: number) => number[]): Buffer {
  const rec = labelBytes(0).length + PIXELS;
  const buf = Buffer.alloc(count * rec);
  for (let i = 0; i < count; i++) {
    const r = first + i;
    const labels = labelBytes(r);
    buf.set(labels, i * rec);
    for (let k = 0; k < PIXELS; k++) buf[i * rec + labels.length + k] = pixel(r, k);
  }
  return buf;
}

const TRAIN_COUNTS = [3, 2, 1, 1, 2];
function writeCifar10(dir: string): void {
  let r = 0;
  TRAIN_COUNTS.forEach((n, i) => {
    writeFileSync(join(dir, `data_batch_${i + 1}.bin`), cifarRecords(r, n, (q) => [q % 10]));
    r += n;
  });
  writeFileSync(join(dir, "test_batch.bin"), cifarRecords(100, 2, (q) => [q % 10]));
}

function idx(ndim: number, dims: number[], payload: Uint8Array, magic = 0x0800 | ndim): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, payload]);
}

function writeMnist(dir: string, o: { gz?: boolean; n?: number; labels?: number[] } = {}): Uint8Array {
  const n = o.n ?? 3;
  const pixels = Uint8Array.from({ length: n * 28 * 28 }, (_, k) => (k * 13) % 256);
  const labels = Uint8Array.from(o.labels ?? Array.from({ length: n }, (_, i) => (i * 3) % 10));
  const write = (name: string, bytes: Buffer) => writeFileSync(join(dir, o.gz ? `${name}.gz` : name), o.gz ? gzipSync(bytes) : bytes);
  write("train-images-idx3-ubyte", idx(3, [n, 28, 28], pixels));
  write("train-labels-idx1-ubyte", idx(1, [labels.length], labels));
  return pixels;
}

// ---- CIFAR ----

test("CIFAR-10 reader: records across batch files, CHW layout, labels, normalisation constants", () => noLeak(() => {
  const dir = join(freshDir(), "cifar-10-batches-bin"); // the layout `data get` produces
  mkdirSync(dir);
  writeCifar10(dir);
  const ds = data.loadDataset("cifar10", { dataDir: join(dir, ".."), split: "train" });
  assert.deepEqual(ds.images.shape, [9, 3, 32, 32]);
  assert.equal(ds.images.dtype, "uint8");
  assert.equal(ds.labels.dtype, "int64");
  assert.deepEqual(values(ds.labels), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const expected = Uint8Array.from({ length: 9 * PIXELS }, (_, i) => pixel(Math.floor(i / PIXELS), i % PIXELS));
  assert.deepEqual(ds.images.toTypedArray(), expected);
  // channel-major: the green plane of record 4 starts at byte 1024 of its pixels
  torch.tidy(() => assert.equal(ds.images.select(0, 4).select(0, 1).select(0, 0).select(0, 0).item(), pixel(4, 1024)));
  assert.equal(ds.classes, 10);
  assert.deepEqual(ds.normalization, data.NORMALIZATION.cifar10);
  torch.dispose(ds);
  const test = data.readCifar10(dir, "test");
  assert.deepEqual(test.images.shape, [2, 3, 32, 32]);
  assert.deepEqual(values(test.labels), [0, 1]);
  torch.dispose(test);
}));

test("CIFAR-10 reader: each malformed file is one error naming it, with expected vs got", () => noLeak(() => {
  const dir = freshDir();
  writeCifar10(dir);
  const b1 = join(dir, "data_batch_1.bin");
  writeFileSync(b1, Buffer.concat([cifarRecords(0, 3, () => [1]), Buffer.alloc(1)]));
  assert.throws(() => data.readCifar10(dir, "train"), (e: Error) =>
    e.message === `${b1}: size ${3 * 3073 + 1} is not a multiple of the 3073-byte record (1 label byte + 3072 pixels)`);
  writeFileSync(b1, Buffer.alloc(0));
  assert.throws(() => data.readCifar10(dir, "train"), /data_batch_1\.bin: size 0 is not a positive multiple of the 3073-byte record/);
  writeFileSync(b1, cifarRecords(0, 3, () => [1]));
  writeFileSync(join(dir, "data_batch_2.bin"), cifarRecords(3, 2, (r) => [r === 4 ? 10 : 0]));
  assert.throws(() => data.readCifar10(dir, "train"), (e: Error) =>
    e.message === `${join(dir, "data_batch_2.bin")}: record 1 has label 10, expected 0..9`);
  unlinkSync(join(dir, "data_batch_3.bin"));
  assert.throws(() => data.readCifar10(dir, "train"), /data_batch_3\.bin: missing; expected the CIFAR-10 binary version.*advdyn data get cifar10/);
  mkdirSync(join(dir, "data_batch_3.bin"));
  assert.throws(() => data.readCifar10(dir, "train"), /data_batch_3\.bin: not a regular file/);
}));

test("CIFAR-100 reader: fine labels by default, coarse on request, both validated", () => noLeak(() => {
  const dir = join(freshDir(), "cifar-100-binary");
  mkdirSync(dir);
  writeFileSync(join(dir, "train.bin"), cifarRecords(0, 4, (r) => [r % 20, 90 + r]));
  writeFileSync(join(dir, "test.bin"), cifarRecords(0, 1, () => [19, 99]));
  const fine = data.loadDataset("cifar100", { dataDir: join(dir, "..") });
  assert.deepEqual(values(fine.labels), [90, 91, 92, 93]);
  assert.equal(fine.classes, 100);
  assert.deepEqual(fine.images.toTypedArray(), Uint8Array.from({ length: 4 * PIXELS }, (_, i) => pixel(Math.floor(i / PIXELS), i % PIXELS)));
  const coarse = data.readCifar100(dir, "train", { labels: "coarse" });
  assert.deepEqual(values(coarse.labels), [0, 1, 2, 3]);
  assert.equal(coarse.classes, 20);
  assert.equal(coarse.name, "cifar100-coarse");
  const test = data.readCifar100(dir, "test");
  assert.deepEqual(values(test.labels), [99]);
  torch.dispose([fine, coarse, test]);
  writeFileSync(join(dir, "train.bin"), cifarRecords(0, 2, (r) => [0, r * 100]));
  assert.throws(() => data.readCifar100(dir, "train"), /train\.bin: record 1 \(fine label\) has label 100, expected 0\.\.99/);
  writeFileSync(join(dir, "train.bin"), cifarRecords(0, 2, () => [20, 0]));
  assert.throws(() => data.readCifar100(dir, "train"), /train\.bin: record 0 \(coarse label\) has label 20, expected 0\.\.19/);
  writeFileSync(join(dir, "train.bin"), cifarRecords(0, 2, () => [0]));
  assert.throws(() => data.readCifar100(dir, "train"), /train\.bin: size 6146 is not a multiple of the 3074-byte record \(2 label bytes \+ 3072 pixels\)/);
  assert.throws(() => data.readCifar100(dir, "train", { labels: "medium" as "fine" }), /labels: expected "fine" or "coarse"/);
}));

// ---- MNIST IDX ----

test("IDX reader: raw and gzipped MNIST / Fashion-MNIST give the same N×1×28×28 set", () => noLeak(() => {
  const rawDir = freshDir();
  const pixels = writeMnist(rawDir);
  const gzRoot = freshDir();
  const gzDir = join(gzRoot, "fashion-mnist");
  mkdirSync(gzDir);
  writeMnist(gzDir, { gz: true });
  const raw = data.loadDataset("mnist", { dataDir: rawDir });
  const gz = data.loadDataset("fashion-mnist", { dataDir: gzRoot });
  for (const ds of [raw, gz]) {
    assert.deepEqual(ds.images.shape, [3, 1, 28, 28]);
    assert.equal(ds.images.dtype, "uint8");
    assert.deepEqual(ds.images.toTypedArray(), pixels);
    assert.deepEqual(values(ds.labels), [0, 3, 6]);
    assert.equal(ds.classes, 10);
  }
  assert.equal(gz.name, "fashion-mnist");
  assert.deepEqual(gz.normalization, data.NORMALIZATION["fashion-mnist"]);
  assert.deepEqual(raw.normalization, data.NORMALIZATION.mnist);
  torch.dispose([raw, gz]);
}));

test("IDX reader: magic, sizes, counts, label range, gzip and missing files are checked", () => noLeak(() => {
  const dir = freshDir();
  writeMnist(dir);
  const images = join(dir, "train-images-idx3-ubyte");
  const labels = join(dir, "train-labels-idx1-ubyte");
  const load = () => data.readMnist(dir, "train");

  writeFileSync(labels, idx(3, [3, 1, 1], new Uint8Array(3)));
  assert.throws(load, (e: Error) => e.message === `${labels}: IDX magic 0x00000803 is not 0x00000801 (uint8, 1 dimension)`);
  writeFileSync(labels, idx(1, [3], new Uint8Array(3), 0x0d01)); // float32 values
  assert.throws(load, /IDX magic 0x00000d01 is not 0x00000801/);
  writeFileSync(labels, idx(1, [2], Uint8Array.from([1, 2])));
  assert.throws(load, (e: Error) => e.message === `${labels}: holds 2 labels but ${images} holds 3 images`);
  writeFileSync(labels, idx(1, [3], Uint8Array.from([1, 2, 3, 4])));
  assert.throws(load, (e: Error) => e.message === `${labels}: size 12 does not match its header (3 values + 8-byte header = 11 bytes)`);
  writeFileSync(labels, idx(1, [3], Uint8Array.from([1, 2, 10])));
  assert.throws(load, (e: Error) => e.message === `${labels}: entry 2 has label 10, expected 0..9`);
  writeFileSync(labels, Buffer.from([0, 0, 8]));
  assert.throws(load, /size 3 is smaller than the 8-byte header of a 1-dimensional IDX file/);
  writeMnist(dir);

  writeFileSync(images, idx(3, [3, 28, 28], new Uint8Array(3 * 28 * 28 - 1)));
  assert.throws(load, (e: Error) => e.message === `${images}: size 2367 does not match its header (3×28×28 values + 16-byte header = 2368 bytes)`);
  writeFileSync(images, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(30, 7)]));
  assert.throws(load, /train-images-idx3-ubyte: not a valid gzip file/);
  unlinkSync(images);
  assert.throws(load, /train-images-idx3-ubyte: missing; expected mnist's IDX files .* raw or \.gz; `advdyn data get mnist` fetches them/);
  assert.throws(() => data.readMnist(dir, "test"), /t10k-images-idx3-ubyte: missing/);
}));

test("loadDataset refuses unknown names and splits", () => {
  assert.throws(() => data.loadDataset("svhn" as data.DatasetName), /dataset: expected one of cifar10, cifar100, mnist, fashion-mnist, fourier-classes, hidden-shortcut, orthogonal, folder, got "svhn"/);
  assert.throws(() => data.loadDataset("fourier-classes", { split: "val" as data.Split }), /split: expected train or test, got "val"/);
  assert.throws(() => data.loadDataset("hidden-shortcut", { hiddenShortcut: { base: "orthogonal" as "mnist" } }), /hiddenShortcut\.base: expected one of/);
});

// ---- synthetic ----

const SMALL = { train: 200, test: 100 };

test("fourier-classes: seeded, balanced, uint8 images spanning [0,1], train split independent of the test size", () => noLeak(() => {
  const a = data.fourierClasses("train", { ...SMALL, seed: 3 });
  const b = data.fourierClasses("train", { ...SMALL, test: 7, seed: 3 });
  const c = data.fourierClasses("train", { ...SMALL, seed: 4 });
  assert.deepEqual(a.images.shape, [200, 3, 32, 32]);
  assert.equal(a.images.dtype, "uint8");
  assert.ok(torch.equal(a.images, b.images) && torch.equal(a.labels, b.labels), "same seed, same data");
  assert.ok(!torch.equal(a.images, c.images), "another seed, other data");
  assert.deepEqual(data.labelCounts(a), Array(10).fill(20));
  torch.tidy(() => {
    const x = a.images.to("float32").div(255);
    assert.ok(x.min().item() >= 0 && x.max().item() <= 1);
    assert.ok(x.amin([1, 2, 3]).max().item() < 0.1 && x.amax([1, 2, 3]).min().item() > 0.9, "every image spans most of [0,1]");
  });
  const gray = data.fourierClasses("test", { ...SMALL, channels: 1, size: 16, classes: 4 });
  assert.deepEqual(gray.images.shape, [100, 1, 16, 16]);
  assert.deepEqual(data.labelCounts(gray), [25, 25, 25, 25]);
  torch.dispose([a, b, c, gray]);
  assert.throws(() => data.fourierClasses("train", { band: [3, 4] }), /band \[3, 4\] holds \d+ distinct Fourier modes at size 32, but 10 classes × 3 modes need 30; widen the band/);
  assert.throws(() => data.fourierClasses("train", { amplitude: 0.5 }), /amplitude: expected a number in \(0, 0\.5\)/);
}));

test("fourier-classes is learnable: a linear softmax model after 30 SGD steps is far above chance on the test split", () => noLeak(() => {
  const tr = data.fourierClasses("train", { train: 1000, seed: 1 });
  const te = data.fourierClasses("test", { test: 500, seed: 1 });
  const acc = torch.tidy(() => {
    const x = tr.images.to("float32").div(255).flatten(1);
    const mean = x.mean(0, true);
    const xc = x.sub(mean);
    const w = torch.zeros([10, xc.shape[1]!], { requiresGrad: true });
    const bias = torch.zeros([10], { requiresGrad: true });
    const sgd = new optim.SGD([w, bias], { lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 30; i++) {
      torch.tidy(() => {
        sgd.zeroGrad();
        F.crossEntropy(F.linear(xc, w, bias), tr.labels).backward();
        sgd.step();
      });
    }
    sgd.dispose();
    const xt = te.images.to("float32").div(255).flatten(1).sub(mean);
    return torch.noGrad(() => F.linear(xt, w, bias).argmax(1).eq(te.labels).to("float32").mean().item());
  });
  torch.dispose([tr, te]);
  assert.ok(acc > 0.8, `test accuracy ${acc} (chance 0.1)`);
}));

test("hidden-shortcut: fft2(x̃ − x) is exactly the class's η, made Hermitian by the real part", () => noLeak(() => {
  const base = data.fourierClasses("train", { train: 30, size: 16, classes: 3, seed: 2 });
  const hs = data.hiddenShortcut(base, { preset: "v3", seed: 5 });
  assert.equal(hs.images.dtype, "float32", "float: quantising would erase the shortcut");
  assert.deepEqual(hs.images.shape, [30, 3, 16, 16]);
  assert.ok(torch.equal(hs.labels, base.labels));
  torch.tidy(() => {
    const x = base.images.to("float32").div(255);
    const eta = data.shortcutSpectrum(3, [3, 16, 16], { preset: "v3", seed: 5 });
    // η's entries: ε·N(0,1) kept with probability p
    const kept = eta.ne(0).to("float32").mean().item();
    assert.ok(Math.abs(kept - 0.2) < 0.05, `fraction of non-zero entries ${kept}`);
    assertClose(eta.std().item() / Math.sqrt(kept), 0.25, 0.15, "ε");

    const spectrum = torch.fft.fftshift(torch.fft.fft2(hs.images.sub(x).double()), [-2, -1]);
    const mirrored = torch.roll(torch.flip(eta, [-2, -1]), [1, 1], [-2, -1]); // index i → (N − i) mod N, i.e. frequency −f
    const expected = eta.add(mirrored).div(2).indexSelect(0, base.labels).double();
    assert.ok(spectrum.real().sub(expected).abs().max().item() < 1e-4, "real part = (η(f) + η(−f)) / 2");
    assert.ok(spectrum.imag().abs().max().item() < 1e-4, "no imaginary part");

    // and it is the paper's per-image formula: real(ifft2(ifftshift(fftshift(fft2(x)) + η[y])))
    const paper = torch.fft.ifft2(torch.fft.ifftshift(torch.fft.fftshift(torch.fft.fft2(x), [-2, -1]).add(eta.indexSelect(0, base.labels)), [-2, -1])).real();
    assert.ok(paper.sub(hs.images).abs().max().item() < 1e-5);
  });
  const again = data.hiddenShortcut(base, { preset: "v3", seed: 5 });
  const other = data.hiddenShortcut(base, { preset: "v3", seed: 6 });
  const v2 = data.hiddenShortcut(base, { preset: "v2", seed: 5 });
  assert.ok(torch.equal(again.images, hs.images), "η comes from the seed alone: train and test share it");
  assert.ok(!torch.equal(other.images, hs.images));
  torch.tidy(() => {
    const x = base.images.to("float32").div(255);
    const small = v2.images.sub(x).abs().max().item();
    assert.ok(small > 0 && small < 1e-3, `v2 (ε 0.0015, p 0.02) is a tiny signal: ${small}`);
  });
  torch.dispose([base, hs, again, other, v2]);
  assert.throws(() => data.shortcutSpectrum(2, [1, 4, 4], { preset: "v9" as "v1" }), /preset: expected one of v1, v2, v3, got "v9"/);
  assert.throws(() => data.shortcutSpectrum(2, [1, 4, 4], { p: 2 }), /p: expected a probability in \[0, 1\]/);
}));

test("hidden-shortcut by name wraps a base set and keeps its labels and normalisation", () => noLeak(() => {
  const ds = data.loadDataset("hidden-shortcut", {
    split: "test",
    hiddenShortcut: { base: "fourier-classes", preset: "v1" },
    fourierClasses: { test: 20, size: 8, classes: 2, band: [1, 3] },
  });
  assert.deepEqual(ds.images.shape, [20, 3, 8, 8]);
  assert.equal(ds.name, "hidden-shortcut(fourier-classes)");
  torch.dispose(ds);
}));

test("orthogonal: uniform or Gaussian inputs, 0/1 labels with a ±1 view, seeded, nearly orthogonal for d ≫ N", () => noLeak(() => {
  const u = data.orthogonal("train", { n: 40, d: 4000, seed: 5 });
  const u2 = data.loadDataset("orthogonal", { orthogonal: { n: 40, d: 4000, seed: 5 } });
  const g = data.orthogonal("train", { n: 40, d: 4000, noise: "gaussian", seed: 5 });
  const t = data.orthogonal("test", { n: 40, d: 4000, seed: 5 });
  assert.deepEqual(u.images.shape, [40, 4000]);
  assert.equal(u.classes, 2);
  assert.ok(torch.equal(u.images, u2.images) && torch.equal(u.labels, u2.labels));
  assert.ok(!torch.equal(u.images, t.images), "the test split is a fresh draw");
  torch.tidy(() => {
    assert.ok(u.images.min().item() >= -1 && u.images.max().item() <= 1);
    assertClose(u.images.var().item(), 1 / 3, 0.02, "U(−1,1) variance");
    assertClose(g.images.var().item(), 1, 0.02, "N(0,1) variance");
    assert.deepEqual([...new Set(values(u.labels))].sort(), [0, 1]);
    assert.deepEqual([...new Set(values(data.signedLabels(u.labels)))].sort(), [-1, 1]);
    assert.deepEqual(values(data.signedLabels(torch.tensor([0, 1, 1]))), [-1, 1, 1]);
    const unit = g.images.div(g.images.norm(2, 1, true));
    const cos = unit.matmul(unit.T).sub(torch.eye(40)).abs().max().item();
    assert.ok(cos < 0.1, `max |cos| between samples ${cos}`);
  });
  torch.dispose([u, u2, g, t]);
  assert.throws(() => data.orthogonal("train", { noise: "laplace" as "uniform" }), /noise: expected "uniform" or "gaussian"/);
}));

test("uniform noise drawn in pieces is the whole draw's images, cut at any piece size (what derive-dataset relies on)", () => noLeak(() => {
  const whole = data.uniformNoise(50, [1, 5, 7], 10, 123);
  for (const rows of [1, 7, 16, 50, 64]) {
    const pieces = [...data.uniformNoiseImages(50, [1, 5, 7], 123, rows)];
    assert.deepEqual(pieces.map((p) => p.shape[0]), Array.from({ length: Math.ceil(50 / rows) }, (_, i) => Math.min(rows, 50 - i * rows)));
    assert.ok(torch.tidy(() => torch.equal(torch.cat(pieces, 0), whole.images)), `pieces of ${rows}`);
    torch.dispose(pieces);
  }
  const [first] = data.uniformNoiseImages(50, [1, 5, 7], 124, 50);
  assert.ok(!torch.equal(first!, whole.images), "another seed, other noise");
  torch.dispose([whole, first]);
}));

test("uniform noise's labels drawn without holding its images are the whole draw's labels", () => noLeak(() => {
  // Images of 512 Ki elements: the images are dropped in 3 pieces of at most 8.
  for (const [n, shape] of [[50, [1, 5, 7]], [20, [1, 512, 1024]]] as const) {
    const whole = data.uniformNoise(n, shape, 10, 123);
    const labels = data.uniformNoiseLabels(n, shape, 10, 123);
    assert.ok(torch.equal(labels, whole.labels), `${n} images of [${shape}]`);
    torch.dispose([whole, labels]);
  }
}));

// ---- loader ----

/** n tiny images whose label is their index, so batches show which examples they hold. */
function indexed(n: number, side = 6): Dataset {
  using g = new torch.Generator(9);
  return torch.tidy(() => ({
    images: torch.randint(0, 256, [n, 2, side, side], { generator: g, dtype: "uint8" }),
    labels: torch.arange(n),
    classes: n,
    name: "indexed",
  }));
}

const ys = (batches: data.Batch[]) => batches.flatMap((b) => values(b.y));
/** The labels of an epoch's batches, disposing them. */
const epochYs = (loader: data.DataLoader, epoch: number) => {
  const batches = [...loader.epoch(epoch)];
  const out = ys(batches);
  torch.dispose(batches);
  return out;
};

test("loader: seeded order covers every example once per epoch, reproducible, new each epoch", () => noLeak(() => {
  const ds = indexed(23);
  const loader = new data.DataLoader(ds, { batchSize: 5, seed: 1 });
  assert.equal(loader.length, 5);
  const e0 = [...loader.epoch(0)];
  assert.deepEqual(e0.map((b) => b.x.shape[0]), [5, 5, 5, 5, 3]);
  const order0 = ys(e0);
  assert.deepEqual([...order0].sort((a, b) => a - b), Array.from({ length: 23 }, (_, i) => i), "each example exactly once");
  assert.notDeepEqual(order0, Array.from({ length: 23 }, (_, i) => i), "shuffled");
  assert.deepEqual(order0, Array.from(loader.order(0), Number));
  const e1 = [...loader.epoch(1)];
  assert.notDeepEqual(ys(e1), order0, "a new order each epoch");
  const again = new data.DataLoader(ds, { batchSize: 5, seed: 1 });
  assert.deepEqual(epochYs(again, 1), ys(e1), "same seed, same order, without replaying epoch 0");
  assert.notDeepEqual(epochYs(new data.DataLoader(ds, { batchSize: 5, seed: 2 }), 0), order0);
  // inputs: the uint8 pixels / 255 as float32
  const b = e0[0]!;
  assert.equal(b.x.dtype, "float32");
  torch.tidy(() => assert.ok(torch.equal(b.x, ds.images.indexSelect(0, b.y).to("float32").div(255))));
  torch.dispose([e0, e1]);

  const dropped = new data.DataLoader(ds, { batchSize: 5, seed: 1, dropLast: true });
  assert.equal(dropped.length, 4);
  assert.deepEqual(epochYs(dropped, 0), order0.slice(0, 20));
  const plain = new data.DataLoader(ds, { batchSize: 10, shuffle: false });
  assert.deepEqual(epochYs(plain, 3), Array.from({ length: 23 }, (_, i) => i));
  torch.dispose(ds);
  assert.throws(() => new data.DataLoader(ds, { batchSize: 0 }), /batchSize: expected a positive integer/);
}));

test("loader: resuming at (epoch, batch) reproduces the same batches, augmentation included", () => noLeak(() => {
  const ds = indexed(20);
  const loader = new data.DataLoader(ds, { batchSize: 6, seed: 4, augment: true });
  const full = [...loader.epoch(2)];
  const resumed = new data.DataLoader(ds, { batchSize: 6, seed: 4, augment: true });
  const tail = [...resumed.epoch(2, 2)];
  assert.equal(tail.length, 2);
  tail.forEach((b, i) => {
    assert.ok(torch.equal(b.y, full[i + 2]!.y));
    assert.ok(torch.equal(b.x, full[i + 2]!.x));
  });
  torch.tidy(() => {
    const single = resumed.batch(2, 3);
    assert.ok(torch.equal(single.x, full[3]!.x), "random access inside a tidy scope");
  });
  assert.throws(() => resumed.batch(2, 4), /batch index: expected an integer in \[0, 4\), got 4/);
  torch.dispose([full, tail, ds]);
}));

test("augmentation: each image is a 4-pixel-padded crop, possibly mirrored, of its original", () => noLeak(() => {
  const side = 6;
  const ds = indexed(16, side);
  const aug = new data.DataLoader(ds, { batchSize: 16, shuffle: false, augment: true, seed: 7 });
  const batch = aug.batch(0, 0);
  assert.deepEqual(batch.x.shape, [16, 2, side, side]);
  torch.tidy(() => assert.ok(batch.x.min().item() >= 0 && batch.x.max().item() <= 1));
  const orig = torch.tidy(() => values(ds.images.to("float32").div(255)));
  const got = values(batch.x);
  const at = (img: number, c: number, i: number, j: number) =>
    i < 0 || j < 0 || i >= side || j >= side ? 0 : orig[((img * 2 + c) * side + i) * side + j]!;
  const seen = new Set<string>();
  for (let img = 0; img < 16; img++) {
    const match = [];
    for (let dy = -4; dy <= 4; dy++) for (let dx = -4; dx <= 4; dx++) for (const flip of [false, true]) {
      let same = true;
      for (let c = 0; c < 2 && same; c++) for (let i = 0; i < side && same; i++) for (let j = 0; j < side && same; j++) {
        same = got[((img * 2 + c) * side + i) * side + j] === at(img, c, i + dy, (flip ? side - 1 - j : j) + dx);
      }
      if (same) match.push(`${dy},${dx},${flip}`);
    }
    assert.ok(match.length > 0, `image ${img} is no padded crop of its original`);
    seen.add(match[0]!);
  }
  assert.ok(seen.size > 4, "offsets and flips vary between images");
  torch.dispose([batch, ds]);
  const flat = data.orthogonal("train", { n: 4, d: 10 });
  assert.throws(() => new data.DataLoader(flat, { batchSize: 2, augment: true }), /augment: needs N×C×H×W images, but orthogonal-uniform has shape \[4, 10\]/);
  torch.dispose(flat);
}));

test("loader serves float sets as they are and moves batches to the requested device", () => noLeak(() => {
  const flat = data.orthogonal("train", { n: 8, d: 3 });
  const loader = new data.DataLoader(flat, { batchSize: 8, shuffle: false });
  torch.tidy(() => assert.ok(torch.equal(loader.batch(0, 0).x, flat.images)));
  if (torch.cuda.isAvailable()) {
    const images = indexed(10);
    const onCpu = new data.DataLoader(images, { batchSize: 4, augment: true, seed: 3 });
    const onGpu = new data.DataLoader(images, { batchSize: 4, augment: true, seed: 3, device: "cuda" });
    torch.tidy(() => {
      const b = onGpu.batch(0, 1);
      assert.ok(b.x.device.startsWith("cuda") && b.y.device.startsWith("cuda"));
      assert.ok(torch.equal(b.x.cpu(), onCpu.batch(0, 1).x), "the same seeded batch on every device");
    });
    torch.dispose(images);
  }
  torch.dispose(flat);
}));
