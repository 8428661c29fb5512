import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { TorchError } from "./errors.js";
import type { NativeOps } from "./native-ops.js";

const addonPath = fileURLToPath(new URL("../../../native/build/Release/advdyn.node", import.meta.url));

function load(): NativeOps {
  // OpenMP and OpenBLAS read these when libtorch is loaded, just below. With OpenBLAS running its
  // own threads, spinning OpenMP workers halve GEMM-bound training here (measured). And
  // ADVDYN_NUM_THREADS bounds every pool, not only libtorch's intra-op one: two processes of one
  // thread each (queue workers) must not run two BLAS threads each on two cores. The user's values win.
  process.env.OMP_WAIT_POLICY ??= "PASSIVE";
  const threads = process.env.ADVDYN_NUM_THREADS;
  if (threads) {
    process.env.OMP_NUM_THREADS ??= threads;
    process.env.OPENBLAS_NUM_THREADS ??= threads;
  }
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
