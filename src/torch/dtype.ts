// bfloat16 and float16: autocast's lower precisions (read back as their raw 16 bits).
export const DTYPES = ["float32", "float64", "int64", "int32", "uint8", "bool", "complex64", "bfloat16", "float16"] as const;
export type DType = (typeof DTYPES)[number];

/** Arithmetic precision of training and attacks: float32, or autocast to bfloat16 or float16 (runtime.ts). */
export const PRECISIONS = ["fp32", "bf16", "fp16"] as const;
export type Precision = (typeof PRECISIONS)[number];

export type Device = "cpu" | "cuda" | `cuda:${number}`;

export const float32: DType = "float32";
export const float64: DType = "float64";
export const int64: DType = "int64";
export const int32: DType = "int32";
export const uint8: DType = "uint8";
export const bool: DType = "bool";
export const complex64: DType = "complex64";

export function isFloating(d: DType): boolean {
  return d === "float32" || d === "float64" || d === "bfloat16" || d === "float16";
}

export function checkDType(d: unknown, what = "dtype"): DType {
  if (typeof d !== "string" || !(DTYPES as readonly string[]).includes(d)) {
    throw new TypeError(`${String(what)}: expected one of ${DTYPES.join(", ")}, got ${JSON.stringify(d)}`);
  }
  return d as DType;
}

export function checkDevice(d: unknown): Device {
  if (typeof d !== "string" || !/^(cpu|cuda(:\d+)?)$/.test(d)) {
    throw new TypeError(`device: expected "cpu", "cuda" or "cuda:N", got ${JSON.stringify(d)}`);
  }
  return d as Device;
}

/** Bytes per element, as stored on disk and in toTypedArray(). */
export const ELEMENT_SIZE: Record<DType, number> = {
  float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1, bool: 1, complex64: 8, bfloat16: 2, float16: 2,
};
