// Option schemas: every option of a model or an attack has a default, a description and a check,
// so a study spec or a command line can be validated before any tensor is made, and errors name
// what is allowed. The command line's flags and the CLI reference are generated from them too.

export interface OptionSpec<T> {
  /** undefined (optional specs only): absent, or derived from other options by the model. */
  readonly default: T;
  readonly doc: string;
  /** The allowed values, in words (used in error messages and help). */
  readonly allowed: string;
  /** The value if v is allowed, otherwise undefined. */
  parse(v: unknown): T | undefined;
}

export type Schema = Readonly<Record<string, OptionSpec<unknown>>>;
/** The option values a schema describes (after defaults). */
export type Resolved<S extends Schema> = { -readonly [K in keyof S]: S[K] extends OptionSpec<infer T> ? T : never };

/** A kind of option: call it with (default, doc), or .optional(doc) for one without a default. */
export function spec<T>(allowed: string, parse: (v: unknown) => T | undefined) {
  const make = (defaultValue: T, doc: string): OptionSpec<T> => ({ default: defaultValue, doc, allowed, parse });
  return Object.assign(make, {
    optional: (doc: string): OptionSpec<T | undefined> => ({ default: undefined, doc, allowed, parse }),
  });
}

export const int = (min: number, max = Infinity) =>
  spec(max === Infinity ? `an integer ≥ ${min}` : `an integer in ${min}…${max}`,
    (v) => (Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : undefined));

export const positive = spec("a finite number > 0", (v) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : undefined));

export const probability = spec("a number in [0, 1)", (v) => (typeof v === "number" && v >= 0 && v < 1 ? v : undefined));

export const bool = spec("true or false", (v) => (typeof v === "boolean" ? v : undefined));

export const oneOf = <const T extends string | number>(values: readonly T[]) =>
  spec(values.map((v) => JSON.stringify(v)).join(" | "), (v) => (values.includes(v as T) ? (v as T) : undefined));

/** A tensor shape: exactly `rank` positive integers, or at least one when rank is absent. */
export const shape = (rank?: number) =>
  spec(rank === undefined ? "an array of positive integers" : `an array of ${rank} positive integers`, (v) =>
    Array.isArray(v) && (rank === undefined ? v.length > 0 : v.length === rank) && v.every((d) => Number.isSafeInteger(d) && d > 0)
      ? [...(v as number[])] : undefined);

/** Thrown for an option that is unknown, mistyped or inconsistent with the others. */
export class OptionError extends Error {
  override name = "OptionError";
}

/** `owner` is what the options belong to: a model or an attack name. */
export function optionError(owner: string, option: string, value: unknown, allowed: string): OptionError {
  return new OptionError(`${owner}: option '${option}' = ${describe(value)} is not allowed; allowed: ${allowed}`);
}

function describe(v: unknown): string {
  if (v !== null && typeof v === "object" && !Array.isArray(v)) return `a ${v.constructor?.name ?? "object"}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Fills in defaults and checks every value; unknown names are errors (a typo must not be ignored). */
export function resolveOptions<S extends Schema>(owner: string, schema: S, options: Readonly<Record<string, unknown>>): Resolved<S> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(options)) {
    if (!(key in schema)) throw new OptionError(`${owner}: unknown option '${key}'; options: ${Object.keys(schema).join(", ") || "none"}`);
  }
  for (const [key, s] of Object.entries(schema)) {
    const given = options[key];
    if (given === undefined) {
      out[key] = Array.isArray(s.default) ? [...s.default] : s.default;
      continue;
    }
    const parsed = s.parse(given);
    if (parsed === undefined) throw optionError(owner, key, given, s.allowed);
    out[key] = parsed;
  }
  return out as Resolved<S>;
}
