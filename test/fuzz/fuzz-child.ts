// Calls the public API and the raw addon with random, mostly wrong arguments: wrong shapes,
// dtypes, devices, disposed tensors, non-tensors. Exits 0 after printing a summary if every
// failure was a JS error; any other exception exits 1; a native crash kills the process.
import { torch } from "../../src/index.js";
import { N } from "../../src/torch/native.js";

const calls = Number(process.argv[2] ?? 10000);
let seed = Number(process.argv[3] ?? 1) >>> 0 || 1;
const rnd = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 4294967296; };
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

const shapes = [[], [0], [1], [3], [2, 3], [3, 2], [1, 3, 4, 4], [2, 2, 5, 5], [4, 4], [2, 1, 3]];
const dtypes = torch.DTYPES;
function makeTensor(): torch.Tensor {
  const shape = pick(shapes);
  const dt = pick(dtypes);
  const t = torch.randn(shape, { dtype: dt === "complex64" ? "complex64" : "float64" });
  const c = dt === "complex64" || dt === "float64" ? t : t.to(dt);
  if (c !== t) t.dispose();
  return c;
}
const pool: torch.Tensor[] = Array.from({ length: 24 }, makeTensor);
const disposed = Array.from({ length: 4 }, () => { const t = makeTensor(); t.dispose(); return t; });
// Sizes stay small or absurd (refused at once): mid-size ones (2^31) would only test the OOM killer.
const numbers = [0, 1, 2, 3, -1, -2, 7, 0.5, -0.5, NaN, Infinity, 1e12, -1e20, 65536, 4];
const misc: unknown[] = [undefined, null, "cpu", "cuda", "float32", "mean", "x", true, false, {}, [], [1, 2], [-1], [0, 0], [2, 2], [1, 1, 1, 1], 10n, Symbol("s"), () => 1, new Float32Array(3), new Uint8Array(7)];
function arg(): unknown {
  const r = rnd();
  if (r < 0.45) return pick(pool);
  if (r < 0.5) return pick(disposed);
  if (r < 0.75) return pick(numbers);
  if (r < 0.8) return [pick(pool), pick(pool)];
  return pick(misc);
}

const fns: [string, (...a: any[]) => unknown][] = [];
const surfaces: Record<string, unknown>[] = [torch as never, torch.nn.functional as never, torch.fft as never, torch.linalg as never, torch.autograd as never];
const skip = new Set(["manualSeed", "setNumThreads", "tidy", "keep", "dispose", "noGrad", "enableGrad", "saveSafetensors", "loadSafetensors"]);
for (const s of surfaces) for (const [k, v] of Object.entries(s)) if (typeof v === "function" && !skip.has(k) && !/^[A-Z]/.test(k)) fns.push([k, v as never]);
const methods = Object.getOwnPropertyNames(torch.Tensor.prototype).filter((m) => m !== "constructor" && m !== "dispose" && typeof Object.getOwnPropertyDescriptor(torch.Tensor.prototype, m)!.value === "function");
// Raw addon entry points, minus the few whose misuse is legal but destructive (freeing pool handles, global state).
const raw = Object.keys(N.signatures).filter((k) => !["free", "manual_seed", "set_num_threads", "set_grad_enabled", "generator_free"].includes(k));

// FUZZ_TRACE=1 prints each call before making it, to find the one that crashed.
const trace = process.env.FUZZ_TRACE ? (what: string, args: unknown[]) => process.stderr.write(`${what}(${args.map((a) => (a instanceof torch.Tensor ? (a.isDisposed ? "disposed" : `T${JSON.stringify(a.shape)}:${a.dtype}`) : typeof a === "symbol" || typeof a === "bigint" ? String(a) : JSON.stringify(a))).join(", ")})\n`) : () => {};
const errors: Record<string, number> = {};
let current = "";
for (let i = 0; i < calls; i++) {
  const nargs = Math.floor(rnd() * 5);
  const args = Array.from({ length: nargs }, arg);
  try {
    torch.tidy(() => {
      const r = rnd();
      if (r < 0.4) {
        const [name, f] = pick(fns);
        current = name;
        trace(name, args);
        f(...args);
      } else if (r < 0.7) {
        const t = rnd() < 0.9 ? pick(pool) : pick(disposed);
        const m = pick(methods);
        current = `tensor.${m}`;
        trace(current, [t, ...args]);
        (t as any)[m](...args);
      } else {
        const name = pick(raw);
        current = `N.${name}`;
        trace(current, args);
        (N as any)[name](...args.map((a) => (a instanceof torch.Tensor && !a.isDisposed ? a.id : a)));
      }
    });
  } catch (e) {
    // Engine-raised JS errors are expected; V8's own TypeErrors would mean our wrappers broke.
    const message = String((e as Error)?.message);
    const internal = /Cannot read propert|is not a function|is not iterable|Cannot convert|undefined|Maximum call stack/.test(message) && !/^\w+: argument|expected/.test(message);
    const kind = internal || !(e instanceof Error) ? `other:${current}:${(e as Error)?.constructor?.name}:${message.slice(0, 100)}`
      : e instanceof torch.TorchError ? "TorchError" : e.constructor.name;
    errors[kind] = (errors[kind] ?? 0) + 1;
  }
  // Keep the pool intact: some calls legitimately change tensors in place or free raw handles.
  for (let k = 0; k < pool.length; k++) if (pool[k]!.isDisposed) pool[k] = makeTensor();
  if (!torch.isGradEnabled()) N.set_grad_enabled(true);
}
console.log(JSON.stringify({ calls, errors }));
process.exit(Object.keys(errors).some((k) => k.startsWith("other:")) ? 1 : 0);
