// Typed readers for command-line option values: each names the option and what it accepts.
import { parseArgs } from "node:util";
import type { Schema } from "../util/schema.js";
import { UsageError } from "./usage.js";

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A command-line value of a schema option: true/false, null, numbers (also 8/255), comma lists of numbers; else the string. */
export function optionValue(v: string): unknown {
  if (v === "true" || v === "false") return v === "true";
  if (v === "null") return null;
  const n = fraction(v);
  if (Number.isFinite(n)) return n;
  if (/^[^,]+(,[^,]+)+$/.test(v) && v.split(",").every((x) => Number.isFinite(fraction(x)))) return v.split(",").map(fraction);
  return v;
}

function fraction(value: string): number {
  const m = /^\s*([-+0-9.eE]+)\s*(?:\/\s*([-+0-9.eE]+)\s*)?$/.exec(value);
  return m ? Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2])) : NaN;
}

/**
 * The options of a model or an attack given as `--name value` (camelCased by parse): every name
 * must be in the schema (else a usage error listing them); values are converted, then checked by
 * the schema where they are used.
 */
export function schemaOptions(owner: string, schema: Schema, given: Record<string, string>): Record<string, unknown> {
  const known = Object.keys(schema);
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(given)) {
    if (!known.includes(k)) throw new UsageError(`unknown option --${kebab(k)} (${owner} takes: ${known.map((o) => `--${kebab(o)}`).join(", ") || "none"})`);
    out[k] = optionValue(value);
  }
  return out;
}

/** Help lines of a schema's options: flag, allowed values, default, meaning. */
export function schemaHelp(schema: Schema, indent = "    "): string {
  return Object.entries(schema).map(([k, s]) =>
    `${indent}--${kebab(k)}  ${s.allowed}${s.default === undefined ? "" : ` (default ${JSON.stringify(s.default)})`}: ${s.doc}`).join("\n");
}

export function integer(name: string, value: string | undefined, fallback: number, min = -Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer${min > -Infinity ? ` >= ${min}` : ""}, got '${value}'`);
  return n;
}

/** A number, also written as a fraction like 8/255. */
export function number(name: string, value: string | undefined, fallback: number, min = -Infinity): number {
  if (value === undefined) return fallback;
  const n = fraction(value);
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
