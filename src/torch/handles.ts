import { Tensor } from "./tensor.js";

function describe(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "object") return `an object (${(x as object).constructor?.name ?? "Object"})`;
  return `${typeof x} ${String(x).slice(0, 40)}`;
}

/** The native handle of a tensor argument; a clear TypeError for anything else. */
export function h(t: Tensor, what = "argument"): number {
  if (!(t instanceof Tensor)) throw new TypeError(`${what}: expected a Tensor, got ${describe(t)}`);
  return t.id;
}

export function hOpt(t: Tensor | null | undefined, what = "argument"): number | undefined {
  return t == null ? undefined : h(t, what);
}

export function hs(ts: readonly Tensor[], what = "argument"): number[] {
  if (!Array.isArray(ts)) throw new TypeError(`${what}: expected an array of Tensors, got ${describe(ts)}`);
  return ts.map((t, i) => h(t, `${what}[${i}]`));
}

export function w(id: number): Tensor {
  return new Tensor(id);
}

export function wOpt(id: number | null): Tensor | undefined {
  return id === null ? undefined : new Tensor(id);
}
