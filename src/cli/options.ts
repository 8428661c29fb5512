// Typed readers for command-line option values: each names the option and what it accepts.
import { parseArgs } from "node:util";
import { UsageError } from "./usage.js";

export function integer(name: string, value: string | undefined, fallback: number, min = -Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer${min > -Infinity ? ` >= ${min}` : ""}, got '${value}'`);
  return n;
}

/** A number, also written as a fraction like 8/255. */
export function number(name: string, value: string | undefined, fallback: number, min = -Infinity): number {
  if (value === undefined) return fallback;
  const m = /^\s*([-+0-9.eE]+)\s*(?:\/\s*([-+0-9.eE]+)\s*)?$/.exec(value);
  const n = m ? Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2])) : NaN;
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name}: expected a number${min > -Infinity ? ` >= ${min}` : ""} (fractions like 8/255 allowed), got '${value}'`);
  return n;
}

export function choice<T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name}: expected one of ${allowed.join(", ")}, got '${value}'`);
  return value as T;
}

type Spec = Record<string, { type: "string" | "boolean" }>;

/**
 * Parses known options strictly; with `extra`, unknown `--key value` pairs are returned too
 * (camelCased), for option sets defined elsewhere (model options).
 */
export function parse<S extends Spec>(args: string[], spec: S, extra = false): { values: { [K in keyof S]?: S[K]["type"] extends "boolean" ? boolean : string }; positionals: string[]; rest: Record<string, string> } {
  const known: string[] = [];
  const rest: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const name = a.startsWith("--") ? a.slice(2).split("=")[0]! : undefined;
    if (extra && name !== undefined && !(name in spec)) {
      const inline = a.includes("=") ? a.slice(a.indexOf("=") + 1) : undefined;
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`--${name}: missing a value`);
      rest[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
    } else known.push(a);
  }
  try {
    const { values, positionals } = parseArgs({ args: known, options: spec, strict: true, allowPositionals: true });
    return { values: values as never, positionals, rest };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
