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
    [write("dtype.st", { a: { dtype: "F16", shape: [1], data_offsets: [0, 2] } }, Buffer.alloc(2)), /tensor 'a': dtype "F16" is not one of/],
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
