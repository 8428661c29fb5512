import { Interrupted } from "./errors.js";
import { N } from "./native.js";

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
