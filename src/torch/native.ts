import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { TorchError } from "./errors.js";
import type { NativeOps } from "./native-ops.js";

// OpenMP reads this when libtorch is loaded, which happens when the addon is required below: with
// OpenBLAS running its own threads, spinning OpenMP workers halve GEMM-bound training here
// (PERFORMANCE.md). A value the user set wins.
process.env.OMP_WAIT_POLICY ??= "PASSIVE";

const addonPath = fileURLToPath(new URL("../../../native/build/Release/advdyn.node", import.meta.url));

function load(): NativeOps {
  try {
    return createRequire(import.meta.url)(addonPath) as NativeOps;
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new Error(`advdyn: cannot load the native addon ${addonPath} (${why}). Build it with \`npm ci\` or \`npm run build:native\`.`);
  }
}

function loaded(): NativeOps {
  const addon = load();
  addon.setErrorClass(TorchError);
  N = addon;
  return addon;
}

/**
 * The addon: one function per op of native/src/ops.cc, taking and returning integer handles.
 * Loaded on first use, not at import: loading libtorch takes about a second and 250 MB, which
 * commands that compute nothing (--help, --version, usage errors) should not pay. Until then N is
 * a stand-in that loads the addon and becomes it (an ES module binding: importers see the swap).
 */
export let N: NativeOps = new Proxy({} as NativeOps, { get: (_, name) => loaded()[name as keyof NativeOps] });
