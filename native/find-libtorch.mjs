// Finds libtorch at build time, in the order ARCHITECTURE.md fixes: $LIBTORCH, a Python torch
// install, the system's (Debian's libtorch-dev). Used by build.mjs and, through `<!@(...)`, by
// binding.gyp. With --describe it prints which one was found; with --cflags/--ldflags the flags.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

function fromRoot(root, source) {
  const include = join(root, "include");
  const lib = join(root, "lib");
  if (!existsSync(join(include, "torch")) || !existsSync(lib)) return undefined;
  return { source, includes: [include, join(include, "torch/csrc/api/include")], lib, abi: undefined };
}

function fromPython() {
  for (const py of [process.env.PYTHON, "python3", "/usr/bin/python3"].filter(Boolean)) {
    try {
      const out = execFileSync(
        py,
        ["-c", "import os, torch; print(os.path.dirname(torch.__file__)); print(int(torch._C._GLIBCXX_USE_CXX11_ABI)); print(torch.__version__)"],
        { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
      ).trim().split("\n");
      const found = fromRoot(out[0], `Python torch ${out[2]} (${py}, ${out[0]})`);
      if (found) return { ...found, abi: out[1] };
    } catch {
      // this interpreter has no torch; try the next one
    }
  }
  return undefined;
}

function fromSystem() {
  if (!existsSync("/usr/include/torch/csrc/api/include")) return undefined;
  const lib = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"].find((d) => existsSync(join(d, "libtorch.so")));
  if (!lib) return undefined;
  return { source: `system libtorch (/usr/include/torch, ${lib})`, includes: ["/usr/include/torch/csrc/api/include"], lib, abi: undefined };
}

export function findLibtorch() {
  if (process.env.LIBTORCH) {
    const found = fromRoot(process.env.LIBTORCH, `LIBTORCH=${process.env.LIBTORCH}`);
    if (!found) throw new Error(`LIBTORCH=${process.env.LIBTORCH} has no include/torch and lib/ folders: point it at an unpacked libtorch (the folder holding include/ and lib/).`);
    return found;
  }
  const found = fromPython() ?? fromSystem();
  if (!found) {
    throw new Error(
      "libtorch not found. Install it with `sudo apt-get install libtorch-dev` (Debian/Ubuntu; `bash scripts/setup.sh` does this), " +
        "or set LIBTORCH to an unpacked libtorch folder (CUDA builds included), or install PyTorch for python3.",
    );
  }
  return found;
}

export function flags(t) {
  const cuda = readdirSync(t.lib).some((f) => /^libtorch_cuda.*\.so/.test(f));
  const cflags = [...t.includes.map((i) => `-I${i}`), "-std=c++17", "-O2", "-fexceptions", "-Wno-unused-parameter", "-Wno-deprecated-declarations"];
  if (t.abi !== undefined) cflags.push(`-D_GLIBCXX_USE_CXX11_ABI=${t.abi}`);
  // --no-as-needed keeps libtorch_cuda loaded although no symbol of it is referenced directly:
  // its load registers the CUDA kernels.
  const ldflags = [`-L${t.lib}`, `-Wl,-rpath,${t.lib}`, "-Wl,--no-as-needed", "-ltorch", "-ltorch_cpu", "-lc10"];
  if (cuda) ldflags.push("-ltorch_cuda", "-lc10_cuda");
  ldflags.push("-Wl,--as-needed");
  return { cflags, ldflags, cuda };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const t = findLibtorch();
    const f = flags(t);
    const what = process.argv[2];
    if (what === "--cflags") console.log(f.cflags.join(" "));
    else if (what === "--ldflags") console.log(f.ldflags.join(" "));
    else console.log(`${t.source}${f.cuda ? " with CUDA" : ""}`);
  } catch (e) {
    console.error(`advdyn: ${e.message}`);
    process.exit(1);
  }
}
