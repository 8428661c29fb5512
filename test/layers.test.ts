// Arrows point down only: each folder of src/ imports only the layers below it (docs/architecture.md).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const src = fileURLToPath(new URL("../../src/", import.meta.url));

/** What each layer may import (besides itself), bottom up. */
export const LAYERS: Record<string, readonly string[]> = {
  util: [],
  torch: ["util"],
  nn: ["torch", "util"],
  models: ["nn", "torch", "util"],
  optim: ["torch", "util"],
  data: ["torch", "util"],
  attacks: ["nn", "torch", "util"],
  analysis: ["nn", "torch", "util"],
  store: ["torch", "util"],
  train: ["attacks", "data", "models", "nn", "optim", "store", "torch", "util"],
  studies: ["analysis", "attacks", "data", "models", "nn", "optim", "store", "torch", "train", "util"],
  report: ["analysis", "store", "torch", "util"],
  cli: ["analysis", "attacks", "data", "models", "nn", "optim", "report", "store", "studies", "torch", "train", "util"],
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** Every relative import of src/ that leaves its layer for one it may not import, as "file → layer". */
export function upwardImports(root: string): string[] {
  const bad: string[] = [];
  for (const file of files(root)) {
    const layer = relative(root, file).split("/")[0]!;
    if (!(layer in LAYERS)) continue; // src/index.ts, the package entry, re-exports every layer
    for (const [, spec] of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = relative(root, resolve(dirname(file), spec!)).split("/")[0]!;
      if (target !== layer && !LAYERS[layer]!.includes(target)) bad.push(`${relative(root, file)} → ${target} (${spec})`);
    }
  }
  return bad;
}

test("every src/ folder is a layer, and no import points up the layers", () => {
  const folders = readdirSync(src, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  assert.deepEqual(folders, Object.keys(LAYERS).sort(), "a new folder needs its place in LAYERS");
  assert.deepEqual(upwardImports(src), []);
});
