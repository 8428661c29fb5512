// The safetensors format (what PyTorch users read with `safetensors.torch.load_file`): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__},
// then the raw little-endian, row-major bytes of every tensor, back to back.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { AtomicFile } from "../util/atomic.js";
import { DType, ELEMENT_SIZE, checkDType } from "./dtype.js";
import { h } from "./handles.js";
import { N } from "./native.js";
import { Tensor } from "./tensor.js";

const TO_FILE: Record<DType, string> = {
  float32: "F32", float64: "F64", int64: "I64", int32: "I32", uint8: "U8", bool: "BOOL", complex64: "C64", bfloat16: "BF16", float16: "F16",
};
const FROM_FILE = Object.fromEntries(Object.entries(TO_FILE).map(([k, v]) => [v, k as DType])) as Record<string, DType>;
// The reference implementation's limit: a larger header is a damaged length, not a header.
const MAX_HEADER = 100_000_000;

export type TensorMap = Record<string, Tensor> | Map<string, Tensor>;
export interface Safetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}
export interface TensorSpec {
  dtype: DType;
  shape: readonly number[];
}
export interface LoadOptions {
  /**
   * Map the file instead of reading it: no copy, and the tensors' pages live in the page cache (the
   * kernel may evict and reread them), so a set larger than memory can be trained on. Writing to
   * such a tensor changes only this process's copy.
   */
  mmap?: boolean;
}

const bytesOf = (s: TensorSpec) => s.shape.reduce((a, b) => a * b, 1) * ELEMENT_SIZE[s.dtype];

/**
 * The header bytes, and where each tensor's data starts in the file. Tensors are ordered by
 * element size, then name, and the header is padded to 8 bytes, so every tensor is aligned.
 */
function layout(specs: Iterable<[string, TensorSpec]>, metadata: Record<string, string> | null | undefined): { head: Buffer; starts: Map<string, number> } {
  const sorted = [...specs].sort(([a, sa], [b, sb]) => ELEMENT_SIZE[sb.dtype] - ELEMENT_SIZE[sa.dtype] || (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata != null) {
    if (typeof metadata !== "object" || !Object.values(metadata).every((v) => typeof v === "string")) throw new TypeError("safetensors: metadata must map strings to strings");
    if (Object.keys(metadata).length) header.__metadata__ = metadata;
  }
  const offsets = new Map<string, number>();
  let offset = 0;
  for (const [name, s] of sorted) {
    if (name === "__metadata__") throw new TypeError("safetensors: '__metadata__' is reserved and cannot name a tensor");
    header[name] = { dtype: TO_FILE[s.dtype], shape: s.shape, data_offsets: [offset, offset + bytesOf(s)] };
    offsets.set(name, offset);
    offset += bytesOf(s);
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const head = Buffer.alloc(8 + Buffer.byteLength(json));
  head.writeBigUInt64LE(BigInt(head.length - 8));
  head.write(json, 8);
  return { head, starts: new Map([...offsets].map(([name, o]) => [name, head.length + o])) };
}

function entriesOf(tensors: TensorMap): [string, Tensor][] {
  if (tensors === null || typeof tensors !== "object") throw new TypeError("safetensors: expected a Map or object of tensors");
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  for (const [name, t] of entries) h(t, `safetensors: tensor '${name}'`);
  return entries;
}

/** The file's bytes. */
export function serializeSafetensors(tensors: TensorMap, metadata?: Record<string, string> | null): Uint8Array[] {
  const entries = entriesOf(tensors);
  const { head, starts } = layout(entries, metadata);
  const data = entries.map(([name, t]) => {
    const d = t.toTypedArray();
    return { start: starts.get(name)!, bytes: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
  });
  return [head, ...data.sort((a, b) => a.start - b.start).map((d) => d.bytes)];
}

/**
 * A safetensors file written piece by piece: the header first, from shapes known up front, then
 * each tensor's bytes as they are computed, so a tensor larger than memory never exists whole.
 * Atomic: the file appears, complete, at close(); disposing the writer before that leaves nothing.
 */
export class SafetensorsWriter {
  readonly #file: AtomicFile;
  readonly #tensors = new Map<string, TensorSpec & { next: number; end: number }>();

  constructor(path: string, specs: Record<string, TensorSpec> | Map<string, TensorSpec>, metadata?: Record<string, string> | null) {
    const entries = [...(specs instanceof Map ? specs.entries() : Object.entries(specs))];
    for (const [name, s] of entries) {
      checkDType(s?.dtype, `safetensors: tensor '${name}'`);
      if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new TypeError(`safetensors: tensor '${name}': shape ${JSON.stringify(s.shape)} is not a list of non-negative integers`);
    }
    const { head, starts } = layout(entries, metadata);
    for (const [name, s] of entries) this.#tensors.set(name, { ...s, next: starts.get(name)!, end: starts.get(name)! + bytesOf(s) });
    this.#file = new AtomicFile(path);
    try {
      this.#file.write(head, 0);
    } catch (e) {
      this.#file[Symbol.dispose]();
      throw e;
    }
  }

  /** Appends the next elements (row-major) of tensor `name`: a piece of any shape, of its dtype. */
  write(name: string, piece: Tensor): void {
    const t = this.#tensors.get(name);
    if (!t) throw new RangeError(`${this.#file.path}: no tensor '${name}' in the header`);
    h(piece, `tensor '${name}'`);
    if (piece.dtype !== t.dtype) throw new TypeError(`${this.#file.path}: tensor '${name}' is ${t.dtype}, got a ${piece.dtype} piece`);
    const size = piece.numel * ELEMENT_SIZE[piece.dtype];
    if (t.next + size > t.end) throw new RangeError(`${this.#file.path}: tensor '${name}' has ${t.end - t.next} bytes left, got a piece of ${size}`);
    try {
      t.next += N.write_at(piece.id, this.#file.fd, t.next);
    } catch (e) {
      throw new Error(`${this.#file.path}: ${(e as Error).message}`);
    }
  }

  /** Checks that every tensor was written whole, then puts the file in place. */
  close(): void {
    for (const [name, t] of this.#tensors) {
      if (t.next !== t.end) throw new RangeError(`${this.#file.path}: tensor '${name}' is missing its last ${t.end - t.next} bytes`);
    }
    this.#file.commit();
  }

  [Symbol.dispose](): void {
    this.#file[Symbol.dispose]();
  }
}

/** Writes atomically (temporary file, then rename), each tensor's bytes straight from its memory. */
export function saveSafetensors(path: string, tensors: TensorMap, metadata: Record<string, string> = {}): void {
  const entries = entriesOf(tensors);
  using w = new SafetensorsWriter(path, new Map(entries.map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape }])), metadata);
  for (const [name, t] of entries) w.write(name, t);
  w.close();
}

function bad(source: string, what: string): never {
  throw new Error(`${source}: not a valid safetensors file: ${what}`);
}

interface Entry extends TensorSpec {
  name: string;
  /** Offset in the file. */
  start: number;
}

/** Checks a file's header (`head`: its first bytes, at least the header) against the file's size. */
function parseHeader(head: Uint8Array, size: number, source: string): { entries: Entry[]; metadata: Record<string, string> } {
  if (size < 8) bad(source, `${size} bytes, expected at least 8`);
  const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  if (n > size - 8) bad(source, `header length ${n} exceeds the file's ${size - 8} remaining bytes`);
  if (n > MAX_HEADER) bad(source, `header length ${n} exceeds the format's ${MAX_HEADER}`);
  let header: Record<string, any>;
  try {
    header = JSON.parse(Buffer.from(head.buffer, head.byteOffset + 8, n).toString("utf8"));
  } catch (e) {
    bad(source, `header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) bad(source, "header is not a JSON object");
  const dataStart = 8 + n;
  const dataLength = size - dataStart;
  const specs = Object.entries(header).filter(([k]) => k !== "__metadata__");
  specs.sort(([, a], [, b]) => (a?.data_offsets?.[0] ?? 0) - (b?.data_offsets?.[0] ?? 0));
  const entries: Entry[] = [];
  let expectedStart = 0;
  for (const [name, spec] of specs) {
    const field = `tensor '${name}'`;
    const dtype = FROM_FILE[spec?.dtype];
    if (!dtype) bad(source, `${field}: dtype ${JSON.stringify(spec?.dtype)} is not one of ${Object.keys(FROM_FILE).join(", ")}`);
    const shape = spec.shape;
    if (!Array.isArray(shape) || !shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0)) bad(source, `${field}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    const [begin, end] = Array.isArray(spec.data_offsets) ? spec.data_offsets : [];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin > end) bad(source, `${field}: data_offsets ${JSON.stringify(spec.data_offsets)} is not [begin, end]`);
    if (begin !== expectedStart) bad(source, `${field}: data starts at ${begin}, expected ${expectedStart} (tensors must be back to back)`);
    if (end > dataLength) bad(source, `${field}: data ends at ${end}, beyond the ${dataLength} data bytes`);
    const want = bytesOf({ dtype, shape });
    if (end - begin !== want) bad(source, `${field}: ${end - begin} bytes for shape [${shape}] of ${spec.dtype}, expected ${want}`);
    entries.push({ name, dtype, shape, start: dataStart + begin });
    expectedStart = end;
  }
  if (expectedStart !== dataLength) bad(source, `${dataLength - expectedStart} trailing bytes after the last tensor`);
  return { entries, metadata: header.__metadata__ ?? {} };
}

/** A tensor per entry, from `make`; on an error, those already made are freed. */
function create(entries: Entry[], make: (e: Entry) => number): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  try {
    for (const e of entries) tensors.set(e.name, new Tensor(make(e)));
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return tensors;
}

/** Parses a whole file's bytes into new CPU tensors. `source` names the file in errors. */
export function parseSafetensors(buf: Uint8Array, source = "safetensors data"): Safetensors {
  if (!(buf instanceof Uint8Array)) throw new TypeError(`${String(source)}: expected the file's bytes as a Uint8Array or Buffer`);
  const { entries, metadata } = parseHeader(buf, buf.byteLength, source);
  const tensors = create(entries, (e) => N.from_data(buf.subarray(e.start, e.start + bytesOf(e)), e.shape, e.dtype, "cpu"));
  return { tensors, metadata };
}

const cannotRead = (path: string, e: unknown) => new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);

/** The file's size and its first bytes: the header's length and the header, as far as the file holds them. */
function readHead(path: string): { head: Buffer; size: number } {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const size = fstatSync(fd).size;
    const prefix = Buffer.alloc(Math.min(8, size));
    readSync(fd, prefix, 0, prefix.length, 0);
    if (size < 8) return { head: prefix, size };
    const head = Buffer.alloc(8 + Math.min(Number(prefix.readBigUInt64LE(0)), size - 8, MAX_HEADER));
    readSync(fd, head, 0, head.length, 0);
    return { head, size };
  } catch (e) {
    throw cannotRead(path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function loadSafetensors(path: string, o: LoadOptions = {}): Safetensors {
  if (!o.mmap) {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      throw cannotRead(path, e);
    }
    return parseSafetensors(buf, path);
  }
  const { head, size } = readHead(path);
  const { entries, metadata } = parseHeader(head, size, path);
  const tensors = create(entries, (e) => {
    try {
      return N.map_file(path, e.start, e.shape, e.dtype);
    } catch (err) {
      throw new Error(`${path}: tensor '${e.name}': ${(err as Error).message}`);
    }
  });
  return { tensors, metadata };
}
