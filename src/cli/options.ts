// Typed option parsers for the command line (commander calls them with the raw text; a bad value
// becomes one line naming the option, the value and what is allowed), and the options of a
// model's or an attack's schema as command-line options.
import { type Command, InvalidArgumentError, Option } from "commander";
import type { Schema } from "../util/schema.js";
import { PRECISIONS } from "../torch/dtype.js";

export const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A number, also written as a fraction like 8/255; NaN when it is neither. */
function fraction(value: string): number {
  const m = /^\s*([-+0-9.eE]+)\s*(?:\/\s*([-+0-9.eE]+)\s*)?$/.exec(value);
  return m ? Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2])) : NaN;
}

/** An integer in [min, max] (default max: the largest integer a double holds exactly). */
export const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => (value: string): number => {
  const n = Number(value);
  if (Number.isInteger(n) && n > max) throw new InvalidArgumentError(`expected an integer ≤ ${max}, got '${value}'`);
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}, got '${value}'`);
  return n;
};

/** A finite number ≥ min (> min when `open`), fractions like 8/255 allowed. */
export const number = (min = -Infinity, open = false) => (value: string): number => {
  const n = fraction(value);
  if (!Number.isFinite(n) || n < min || (open && n === min)) {
    throw new InvalidArgumentError(`expected a number ${open ? ">" : "≥"} ${min} (fractions like 8/255 allowed), got '${value}'`);
  }
  return n;
};

/** A comma list, each item parsed by `item`. */
export const list = <T>(item: (v: string) => T, what: string) => (value: string): T[] => {
  const parts = value.split(",").map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === "")) throw new InvalidArgumentError(`expected ${what} separated by commas, got '${value}'`);
  return parts.map((p) => {
    try {
      return item(p);
    } catch (e) {
      throw new InvalidArgumentError(`'${p}' in '${value}': ${(e as Error).message}`);
    }
  });
};

/** A command-line value of a schema option: true/false, null, numbers (also 8/255), comma lists of numbers; else the string. */
export function optionValue(v: string): unknown {
  if (v === "true" || v === "false") return v === "true";
  if (v === "null") return null;
  const n = fraction(v);
  if (Number.isFinite(n)) return n;
  if (/^[^,]+(,[^,]+)+$/.test(v) && v.split(",").every((x) => Number.isFinite(fraction(x)))) return v.split(",").map(fraction);
  return v;
}

/** `--device cpu|cuda`, shared by the commands that compute. */
export const precisionOption = (what: string, fallback?: string) => {
  const o = new Option("--precision <p>", `${what}: fp32, or autocast (matmul and conv) to bf16 (CPU or CUDA) or fp16 (CUDA)`).choices(PRECISIONS);
  return fallback === undefined ? o : o.default(fallback);
};
export const deviceOption = () => new Option("--device <device>", "where tensors live").choices(["cpu", "cuda"]).default("cpu");

/**
 * Adds a schema's options (a model's or an attack's) to a command as `--kebab-name <value>`; the
 * values are converted by optionValue and checked by the schema where they are used (an error
 * names the option and the allowed values).
 */
export function addSchemaOptions(cmd: Command, schema: Schema, owner: string): string[] {
  const added: string[] = [];
  for (const [k, s] of Object.entries(schema)) {
    // A command's own option of that name wins (train's --seed seeds the model too); a Generator cannot be typed.
    if (s.allowed === "a torch.Generator" || cmd.options.some((o) => o.attributeName() === k)) continue;
    const def = s.default === undefined ? "" : ` (default ${JSON.stringify(s.default)})`;
    cmd.addOption(new Option(`--${kebab(k)} <value>`, `${owner}: ${s.doc}; ${s.allowed}${def}`).argParser(optionValue));
    added.push(k);
  }
  return added;
}

/** The values given for these options (keys from addSchemaOptions). */
export const schemaValues = (opts: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(keys.filter((k) => opts[k] !== undefined).map((k) => [k, opts[k]]));
