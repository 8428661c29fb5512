import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { torch } from "../src/index.js";
import { values } from "./helpers.js";

const { tidy } = torch;
const dir = mkdtempSync(join(tmpdir(), "advdyn-st-"));

test("every dtype round-trips through a safetensors file, with metadata", () => tidy(() => {
  const src = torch.tensor([[0, 1.5, -2], [3, 4.25, -5]], { dtype: "float64" });
  const tensors: Record<string, torch.Tensor> = {};
  for (const dt of torch.DTYPES) tensors[`t_${dt}`] = (dt === "uint8" || dt === "bool" ? src.abs() : src).to(dt);
  tensors.scalar = torch.tensor(3.5, { dtype: "float32" });
  tensors.empty = torch.zeros([0, 4]);
  const path = join(dir, "all.safetensors");
  torch.saveSafetensors(path, tensors, { format: "pt", epoch: "3" });
  const { tensors: back, metadata } = torch.loadSafetensors(path);
  assert.deepEqual(metadata, { format: "pt", epoch: "3" });
  assert.deepEqual([...back.keys()].sort(), Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) {
    const b = back.get(name)!;
    assert.equal(b.dtype, t.dtype, name);
    assert.deepEqual(b.shape, t.shape, name);
    assert.ok(torch.equal(b, t), name);
  }
  assert.ok(!readdirSync(dir).some((f) => f.includes(".tmp")), "no temporary file left behind");
}));

test("reads bytes laid out exactly as Python's safetensors writes them", () => tidy(() => {
  // {"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
  //  "b":{"dtype":"I64","shape":[1,1],"data_offsets":[8,16]}} padded with spaces to 8 bytes.
  let header = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I64","shape":[1,1],"data_offsets":[8,16]}}';
  header += " ".repeat((8 - (header.length % 8)) % 8);
  const buf = Buffer.alloc(8 + header.length + 16);
  buf.writeBigUInt64LE(BigInt(header.length), 0);
  buf.write(header, 8, "utf8");
  buf.writeFloatLE(1.5, 8 + header.length);
  buf.writeFloatLE(-2, 8 + header.length + 4);
  buf.writeBigInt64LE(-7n, 8 + header.length + 8);
  const path = join(dir, "python.safetensors");
  writeFileSync(path, buf);
  const { tensors, metadata } = torch.loadSafetensors(path);
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual(values(tensors.get("a")!), [1.5, -2]);
  assert.deepEqual(tensors.get("b")!.shape, [1, 1]);
  assert.equal(tensors.get("b")!.item(), -7);
  // And what we write has the same layout: header length, JSON, then back-to-back data.
  torch.saveSafetensors(join(dir, "ours.safetensors"), { a: tensors.get("a")!, b: tensors.get("b")! });
  const ours = readFileSync(join(dir, "ours.safetensors"));
  const n = Number(ours.readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0);
  const parsed = JSON.parse(ours.subarray(8, 8 + n).toString());
  assert.deepEqual(parsed.b, { dtype: "I64", shape: [1, 1], data_offsets: [0, 8] });
  assert.deepEqual(parsed.a, { dtype: "F32", shape: [2], data_offsets: [8, 16] });
  assert.equal(ours.readBigInt64LE(8 + n), -7n);
}));

test("malformed files give errors naming the file and the problem", () => {
  const write = (name: string, header: object | string, data = Buffer.alloc(0)) => {
    const h = typeof header === "string" ? header : JSON.stringify(header);
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(Buffer.byteLength(h)));
    const p = join(dir, name);
    writeFileSync(p, Buffer.concat([b, Buffer.from(h), data]));
    return p;
  };
  const cases: [string, RegExp][] = [
    [write("notjson.st", "{oops"), /notjson\.st: not a valid safetensors file: header is not JSON/],
    [write("dtype.st", { a: { dtype: "I16", shape: [1], data_offsets: [0, 2] } }, Buffer.alloc(2)), /tensor 'a': dtype "I16" is not one of/],
    [write("size.st", { a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8)), /tensor 'a': 8 bytes for shape \[3\] of F32, expected 12/],
    [write("beyond.st", { a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, Buffer.alloc(8)), /data ends at 16, beyond the 8 data bytes/],
    [write("gap.st", { a: { dtype: "U8", shape: [1], data_offsets: [1, 2] } }, Buffer.alloc(2)), /data starts at 1, expected 0/],
    [write("trailing.st", { a: { dtype: "U8", shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(3)), /2 trailing bytes/],
    [write("shape.st", { a: { dtype: "U8", shape: [-1], data_offsets: [0, 1] } }, Buffer.alloc(1)), /shape \[-1\] is not a list of non-negative integers/],
  ];
  for (const [path, re] of cases) assert.throws(() => torch.loadSafetensors(path), re, path);
  const short = join(dir, "short.st");
  writeFileSync(short, Buffer.from([1, 2, 3]));
  assert.throws(() => torch.loadSafetensors(short), /short\.st: not a valid safetensors file: 3 bytes, expected at least 8/);
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(1000n);
  writeFileSync(join(dir, "huge.st"), huge);
  assert.throws(() => torch.loadSafetensors(join(dir, "huge.st")), /header length 1000 exceeds/);
  assert.throws(() => torch.loadSafetensors(join(dir, "missing.st")), /missing\.st: cannot read \(ENOENT\)/);
  const before = torch.memory().tensors;
  assert.throws(() => torch.loadSafetensors(join(dir, "trailing.st")));
  assert.equal(torch.memory().tensors, before, "a failed load frees what it had read");
});

/** Tensors of every dtype and several shapes, big enough that some span pages and start mid-page. */
function assorted(): Record<string, torch.Tensor> {
  const g = new torch.Generator(5);
  const t: Record<string, torch.Tensor> = {};
  for (const [i, dt] of torch.DTYPES.entries()) {
    const shape = [[3, 1000 + i], [7], [2, 3, 5], [], [0, 4]][i % 5]!;
    const x = torch.randn(shape, { generator: g, dtype: "float64" }).mul(100);
    t[`x_${dt}`] = dt === "complex64" ? torch.complex(x.to("float32"), x.neg().to("float32")) : dt === "bool" ? x.gt(0) : dt === "uint8" ? x.abs().to("uint8") : x.to(dt);
  }
  t.odd = torch.arange(13).to("uint8");
  t.scalar = torch.tensor(2.5, { dtype: "float64" });
  t.empty = torch.zeros([0]);
  t.transposed = torch.arange(12).reshape(3, 4).T; // written in row-major order of its view
  return t;
}

test("memory-mapped tensors equal the read ones: every dtype, several shapes, data at nonzero offsets within pages", () => tidy(() => {
  const tensors = assorted();
  const path = join(dir, "mapped.safetensors");
  torch.saveSafetensors(path, tensors, { note: "m" });
  const read = torch.loadSafetensors(path);
  const mapped = torch.loadSafetensors(path, { mmap: true });
  assert.deepEqual(mapped.metadata, { note: "m" });
  const header = JSON.parse(readFileSync(path).subarray(8, 8 + Number(readFileSync(path).readBigUInt64LE(0))).toString());
  const starts = Object.values(header).flatMap((s) => (s as { data_offsets?: number[] }).data_offsets?.[0] ?? []);
  assert.ok(starts.filter((s) => s % 4096 !== 0).length >= 5, "most tensors start inside a page");
  for (const [name, t] of Object.entries(tensors)) {
    const m = mapped.tensors.get(name)!;
    assert.equal(m.dtype, t.dtype, name);
    assert.deepEqual(m.shape, t.shape, name);
    assert.ok(torch.equal(m, t) && torch.equal(m, read.tensors.get(name)!), name);
  }
  // A write to a mapped tensor stays in this process: the file is unchanged.
  mapped.tensors.get("x_float32")!.mul_(0);
  assert.ok(torch.equal(torch.loadSafetensors(path).tensors.get("x_float32")!, tensors.x_float32!));
}));

test("the memory-mapped loader refuses a damaged file with one error naming it, and frees what it mapped", () => {
  const path = join(dir, "whole.safetensors");
  tidy(() => torch.saveSafetensors(path, assorted()));
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const variant = (name: string, b: Buffer) => {
    writeFileSync(join(dir, name), b);
    return join(dir, name);
  };
  const longer = Buffer.from(bytes);
  longer.writeBigUInt64LE(BigInt(n + 8));
  const shorter = Buffer.from(bytes);
  shorter.writeBigUInt64LE(BigInt(n - 8));
  const enormous = Buffer.from(bytes);
  enormous.writeBigUInt64LE(1n << 40n);
  // Python's writer does not sort tensors by element size: an F32 after 3 bytes of U8.
  let header = '{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"F32","shape":[1],"data_offsets":[3,7]}}';
  header += " ".repeat((8 - (header.length % 8)) % 8);
  const unaligned = Buffer.alloc(8 + header.length + 7);
  unaligned.writeBigUInt64LE(BigInt(header.length));
  unaligned.write(header, 8);
  const cases: [string, RegExp][] = [
    [variant("cut.st", bytes.subarray(0, bytes.length - 100)), /cut\.st: not a valid safetensors file: tensor '.*': data ends at \d+, beyond the \d+ data bytes/],
    [variant("cut-header.st", bytes.subarray(0, 50)), /cut-header\.st: not a valid safetensors file: header length \d+ exceeds the file's 42 remaining bytes/],
    [variant("tiny.st", bytes.subarray(0, 5)), /tiny\.st: not a valid safetensors file: 5 bytes, expected at least 8/],
    [variant("longer.st", longer), /longer\.st: not a valid safetensors file: header is not JSON/],
    [variant("shorter.st", shorter), /shorter\.st: not a valid safetensors file: header is not JSON/],
    [variant("enormous.st", enormous), /enormous\.st: not a valid safetensors file: header length 1099511627776 exceeds/],
    [variant("unaligned.st", unaligned), /unaligned\.st: tensor 'b': map_file: data at byte \d+ is not aligned to its 4-byte elements/],
    [join(dir, "absent.st"), /absent\.st: cannot read \(ENOENT\)/],
  ];
  const before = torch.memory().tensors;
  for (const [p, re] of cases) {
    assert.throws(() => torch.loadSafetensors(p, { mmap: true }), (e: Error) => re.test(e.message) && e.message.split("\n").length === 1, p);
  }
  assert.equal(torch.memory().tensors, before, "the tensor mapped before the unaligned one is freed");
  // The native call checks the range and alignment itself, should the file change after its header was read.
  assert.throws(() => torch.loadSafetensors(variant("ok.st", Buffer.concat([unaligned.subarray(0, 8 + header.length), Buffer.alloc(3)])), { mmap: true }), /data ends at 7, beyond the 3 data bytes/);
});

test("the piecewise writer's file equals the one-shot file byte for byte, whatever the pieces and their order; a bad piece or a missing one leaves no file", () => tidy(() => {
  const tensors = assorted();
  const big = torch.randn([5000, 130]);
  const expected = Buffer.concat(torch.serializeSafetensors({ ...tensors, big }, { k: "v" }));
  const specs = Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape }]));
  const path = join(dir, "pieces.safetensors");
  {
    using w = new torch.SafetensorsWriter(path, { ...specs, big: { dtype: "float32", shape: big.shape } }, { k: "v" });
    // Rows of `big` in uneven pieces (one given flat), between the other tensors in reverse file order.
    const others = Object.entries(tensors).reverse();
    for (const [start, rows] of [[0, 1], [1, 999], [1000, 3000], [4000, 1000]] as const) {
      w.write("big", start === 1000 ? big.narrow(0, start, rows).flatten() : big.narrow(0, start, rows));
      for (const [name, t] of others.splice(0, Math.ceil(Object.keys(tensors).length / 4))) w.write(name, t);
    }
    w.close();
  }
  assert.ok(readFileSync(path).equals(expected), "piecewise");
  torch.saveSafetensors(path, { ...tensors, big }, { k: "v" });
  assert.ok(readFileSync(path).equals(expected), "saveSafetensors");

  const failed = join(dir, "failed.safetensors");
  const attempts: [(w: torch.SafetensorsWriter) => void, RegExp][] = [
    [(w) => w.write("a", torch.zeros([2], { dtype: "float64" })), /tensor 'a' is float32, got a float64 piece/],
    [(w) => w.write("a", torch.zeros([7])), /tensor 'a' has 24 bytes left, got a piece of 28/],
    [(w) => w.write("b", torch.zeros([1])), /no tensor 'b' in the header/],
    [(w) => { w.write("a", torch.zeros([4])); w.close(); }, /failed\.safetensors: tensor 'a' is missing its last 8 bytes/],
  ];
  for (const [act, re] of attempts) {
    assert.throws(() => {
      using w = new torch.SafetensorsWriter(failed, { a: { dtype: "float32", shape: [2, 3] } });
      act(w);
    }, re);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith("failed")), [], "no file, no temporary file");
  }
  assert.throws(() => new torch.SafetensorsWriter(failed, { a: { dtype: "int16" as never, shape: [1] } }), /tensor 'a': expected one of/);
  assert.throws(() => new torch.SafetensorsWriter(failed, { a: { dtype: "float32", shape: [1.5] } }), /shape \[1\.5\] is not a list/);
}));
