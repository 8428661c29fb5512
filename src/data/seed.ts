import { createHash } from "node:crypto";

/**
 * A generator seed for one named stream of a run (e.g. `seed, "loader", epoch, batch`). Hashing
 * rather than arithmetic keeps every combination distinct, so any (epoch, batch) can be
 * regenerated on its own: a resumed run draws exactly what an uninterrupted one would have.
 */
export function deriveSeed(...parts: (string | number)[]): number {
  const digest = createHash("sha256").update(parts.map(String).join("\u0000")).digest();
  return digest.readUIntBE(0, 6); // 48 bits: a safe integer, as Generator requires
}

export function checkSeed(seed: number, what = "seed"): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`${what}: expected a non-negative integer, got ${seed}`);
  return seed;
}
