import { Interrupted } from "./errors.js";
import { N } from "./native.js";
import { tidy } from "./scope.js";
import { PRECISIONS, type Precision } from "./dtype.js";
import { h } from "./handles.js";
import type { Tensor } from "./tensor.js";

/** libtorch's intra-op thread count (advdyn defaults it to the core count, or ADVDYN_NUM_THREADS). */
export const getNumThreads = (): number => N.get_num_threads();
export const setNumThreads = (n: number): void => N.set_num_threads(n);

export const cuda = {
  isAvailable: (): boolean => N.cuda_is_available(),
  deviceCount: (): number => N.cuda_device_count(),
};

/**
 * From now on Ctrl-C and SIGTERM make checkInterrupt() throw at the next safe point, so a command
 * ends cleanly; a second Ctrl-C ends the process at once. Commands that compute call this.
 */
export const watchInterrupts = (): void => N.watch_interrupts();

/** Throws Interrupted if Ctrl-C or SIGTERM arrived since watchInterrupts(). Call between steps, never inside a write. */
export function checkInterrupt(): void {
  if (N.interrupts() > 0) throw new Interrupted();
}

/** This process is killed when its parent dies (Linux; elsewhere nothing): a queue worker's job process does not outlive its worker. */
export const dieWithParent = (): void => N.die_with_parent();

const LOWER = { bf16: "bfloat16", fp16: "float16" } as const;

/**
 * A forward pass under libtorch's autocast for x's device (PyTorch's `torch.autocast`): matmul and
 * conv in the lower dtype, the rest by libtorch's lists. The output comes back in float32, so the
 * loss and every reduction after it run in float32. fp32 runs fn as it is.
 */
export function autocast(precision: Precision, x: Tensor, fn: () => Tensor): Tensor {
  if (!PRECISIONS.includes(precision)) throw new TypeError(`autocast: precision: expected one of ${PRECISIONS.join(", ")}, got ${JSON.stringify(precision)}`);
  h(x, "autocast: x");
  if (typeof fn !== "function") throw new TypeError(`autocast: fn: expected a function returning a Tensor, got ${typeof fn}`);
  if (precision === "fp32") return fn();
  const cuda = x.device.startsWith("cuda");
  const previous = N.autocast_dtype(cuda);
  N.set_autocast(cuda, LOWER[precision], true);
  let out: Tensor;
  try {
    out = fn();
  } finally {
    N.set_autocast(cuda, previous || null, false);
  }
  h(out, "autocast: fn's result");
  return out.dtype === LOWER[precision] ? tidy(() => out.to("float32")) : out;
}
