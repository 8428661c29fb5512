import { h } from "./handles.js";
import { N } from "./native.js";
import { Tensor } from "./tensor.js";

const leaks = new FinalizationRegistry<number>((id) => {
  try {
    N.generator_free(id);
  } catch {
    // environment already torn down
  }
});

/**
 * An explicit, seeded source of randomness (a CPU Philox/MT generator). Draws made with it are
 * identical on every device: they happen on the CPU and move afterwards.
 */
export class Generator {
  #id: number;
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new TypeError(`Generator: seed must be a non-negative integer, got ${seed}`);
    this.#id = N.generator_new(seed);
    leaks.register(this, this.#id, this);
  }
  get id(): number {
    if (this.#id < 0) throw new TypeError("this Generator has been disposed");
    return this.#id;
  }
  /** The full state as a uint8 tensor (save it to resume a run bit for bit). */
  getState(): Tensor {
    return new Tensor(N.generator_get_state(this.id));
  }
  setState(state: Tensor): this {
    N.generator_set_state(this.id, h(state, "state"));
    return this;
  }
  dispose(): void {
    if (this.#id < 0) return;
    leaks.unregister(this);
    N.generator_free(this.#id);
    this.#id = -1;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Seeds the global generator (the one used when no generator is passed). */
export function manualSeed(seed: number): void {
  N.manual_seed(seed);
}
