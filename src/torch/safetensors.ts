// The safetensors format (what PyTorch users read with `safetensors.torch.load_file`): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__},
// then the raw little-endian, row-major bytes of every tensor, back to back.
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../util/atomic.js";
import { DType, ELEMENT_SIZE } from "./dtype.js";
import { h } from "./handles.js";
import { N } from "./native.js";
import { Tensor } from "./tensor.js";

const TO_FILE: Record<DType, string> = {
  float32: "F32", float64: "F64", int64: "I64", int32: "I32", uint8: "U8", bool: "BOOL", complex64: "C64", bfloat16: "BF16", float16: "F16",
};
const FROM_FILE = Object.fromEntries(Object.entries(TO_FILE).map(([k, v]) => [v, k as DType])) as Record<string, DType>;

export type TensorMap = Record<string, Tensor> | Map<string, Tensor>;
export interface Safetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** The file's bytes. Tensors are ordered by element size, then name, so every one is aligned. */
export function serializeSafetensors(tensors: TensorMap, metadata?: Record<string, string> | null): Uint8Array[] {
  if (tensors === null || typeof tensors !== "object") throw new TypeError("safetensors: expected a Map or object of tensors");
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))];
  for (const [name, t] of entries) h(t, `safetensors: tensor '${name}'`);
  entries.sort(([a, ta], [b, tb]) => ELEMENT_SIZE[tb.dtype] - ELEMENT_SIZE[ta.dtype] || (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata != null) {
    if (typeof metadata !== "object" || !Object.values(metadata).every((v) => typeof v === "string")) throw new TypeError("safetensors: metadata must map strings to strings");
    if (Object.keys(metadata).length) header.__metadata__ = metadata;
  }
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__") throw new TypeError("safetensors: '__metadata__' is reserved and cannot name a tensor");
    const d = t.toTypedArray();
    const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    header[name] = { dtype: TO_FILE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    datas.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return [prefix, Buffer.from(json), ...datas];
}

/** Writes atomically (temporary file, then rename). */
export function saveSafetensors(path: string, tensors: TensorMap, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}

function bad(source: string, what: string): never {
  throw new Error(`${source}: not a valid safetensors file: ${what}`);
}

/** Parses a whole file's bytes into new CPU tensors. `source` names the file in errors. */
export function parseSafetensors(buf: Uint8Array, source = "safetensors data"): Safetensors {
  if (!(buf instanceof Uint8Array)) throw new TypeError(`${String(source)}: expected the file's bytes as a Uint8Array or Buffer`);
  if (buf.byteLength < 8) bad(source, `${buf.byteLength} bytes, expected at least 8`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > buf.byteLength - 8) bad(source, `header length ${n} exceeds the file's ${buf.byteLength - 8} remaining bytes`);
  let header: Record<string, any>;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, n).toString("utf8"));
  } catch (e) {
    bad(source, `header is not JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) bad(source, "header is not a JSON object");
  const dataStart = 8 + n;
  const dataLength = buf.byteLength - dataStart;
  const metadata: Record<string, string> = header.__metadata__ ?? {};
  const specs = Object.entries(header).filter(([k]) => k !== "__metadata__");
  specs.sort(([, a], [, b]) => (a?.data_offsets?.[0] ?? 0) - (b?.data_offsets?.[0] ?? 0));
  const tensors = new Map<string, Tensor>();
  let expectedStart = 0;
  try {
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
      const want = shape.reduce((a: number, b: number) => a * b, 1) * ELEMENT_SIZE[dtype];
      if (end - begin !== want) bad(source, `${field}: ${end - begin} bytes for shape [${shape}] of ${spec.dtype}, expected ${want}`);
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset + dataStart + begin, end - begin);
      tensors.set(name, new Tensor(N.from_data(bytes, shape, dtype, "cpu")));
      expectedStart = end;
    }
    if (expectedStart !== dataLength) bad(source, `${dataLength - expectedStart} trailing bytes after the last tensor`);
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}

export function loadSafetensors(path: string): Safetensors {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSafetensors(buf, path);
}
