import { N } from "./native.js";
import { Tensor } from "./tensor.js";

// Memory contract (tfjs-style): tensors created inside tidy(fn) are disposed when fn returns,
// except those it returns (they move to the enclosing scope) and those passed to keep().
// A scope is a plain array plus an owner mark on each tensor: cheaper per op than a Set.
export type Scope = Tensor[];
const scopes: Scope[] = [];

/** Called by every Tensor constructor: the scope that owns the new tensor, if any. */
export function track(t: Tensor): Scope | undefined {
  const scope = scopes[scopes.length - 1];
  scope?.push(t);
  return scope;
}

/** Takes t out of its scope: it lives until dispose() (or, as a safety net, garbage collection). */
export function keep<T extends Tensor>(t: T): T {
  t.owner = undefined;
  t.watchForLeak();
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

function close(scope: Scope, survivors: Set<Tensor>): void {
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (t.owner !== scope || t.isDisposed) continue;
    if (!survivors.has(t)) t.dispose();
    else if (parent) {
      parent.push(t);
      t.owner = parent;
    } else keep(t);
  }
}

/**
 * Runs fn and disposes every tensor it created that is not part of its result (tensors found in
 * returned arrays, plain objects and Maps are kept). fn must be synchronous.
 */
export function tidy<R>(fn: () => R): R {
  const scope: Scope = [];
  scopes.push(scope);
  let result: R;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    close(scope, new Set());
    throw e;
  }
  scopes.pop();
  const survivors = new Set<Tensor>();
  collect(result, survivors, new Set());
  close(scope, survivors);
  if (result instanceof Promise) throw new TypeError("tidy(fn): fn must be synchronous (it returned a Promise)");
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

/**
 * The caching CPU allocator's state: bytes of freed blocks (≥ 1 MiB) it holds for reuse, and how
 * many large allocations it served from them (hits) or from the system (misses). All zero when
 * ADVDYN_DEFAULT_MALLOC is set.
 */
export function allocatorCache(): { cachedBytes: number; hits: number; misses: number } {
  const [cachedBytes, hits, misses] = N.cpu_cache();
  return { cachedBytes: cachedBytes!, hits: hits!, misses: misses! };
}
