import { N } from "./native.js";
import { Tensor } from "./tensor.js";

// Memory contract (tfjs-style): tensors created inside tidy(fn) are disposed when fn returns,
// except those it returns (they move to the enclosing scope) and those passed to keep().
const scopes: Set<Tensor>[] = [];

/** Called by every Tensor constructor. */
export function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Removes t from every scope: it lives until dispose() (or, as a safety net, garbage collection). */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collect(x: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (x instanceof Tensor) out.add(x);
  else if (x !== null && typeof x === "object" && !seen.has(x)) {
    seen.add(x);
    if (x instanceof Map) for (const v of x.values()) collect(v, out, seen);
    else for (const v of Object.values(x)) collect(v, out, seen);
  }
}

/**
 * Runs fn and disposes every tensor it created that is not part of its result (tensors found in
 * returned arrays, plain objects and Maps are kept). fn must be synchronous.
 */
export function tidy<R>(fn: () => R): R {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: R;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) throw new TypeError("tidy(fn): fn must be synchronous (it returned a Promise)");
  const survivors = new Set<Tensor>();
  collect(result, survivors, new Set());
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of survivors) if (scope.has(t)) parent.add(t);
  return result;
}

/** Disposes every tensor found in x (a tensor, or arrays/objects/Maps holding tensors). */
export function dispose(x: unknown): void {
  const found = new Set<Tensor>();
  collect(x, found, new Set());
  for (const t of found) t.dispose();
}

/** Live native tensors (handles) and their bytes. */
export function memory(): { tensors: number; bytes: number } {
  const [tensors, bytes] = N.memory();
  return { tensors: tensors!, bytes: bytes! };
}
