// `npm install` / `npm ci` entry: reports which libtorch it builds against, then runs node-gyp on
// native/. Uses the Node headers installed beside this node binary when present, so no download.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { findLibtorch, flags } from "./find-libtorch.mjs";

const here = dirname(fileURLToPath(import.meta.url));
let torch;
try {
  torch = findLibtorch();
} catch (e) {
  console.error(`advdyn: ${e.message}`);
  process.exit(1);
}
console.log(`advdyn: building the native addon against ${torch.source}${flags(torch).cuda ? " (CUDA)" : ""}`);

function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const npmDir = join(dirname(process.execPath), "../lib/node_modules/npm");
  return createRequire(join(npmDir, "package.json")).resolve("node-gyp/bin/node-gyp.js");
}

const args = [nodeGyp(), "rebuild", `--directory=${here}`, `--jobs=${process.env.JOBS ?? "max"}`];
const nodedir = join(dirname(process.execPath), "..");
if (existsSync(join(nodedir, "include/node/node_api.h"))) args.push(`--nodedir=${nodedir}`);
try {
  execFileSync(process.execPath, args, { stdio: "inherit" });
} catch {
  console.error("advdyn: the native build failed (see the compiler output above).");
  process.exit(1);
}
