import { noGrad } from "../torch/autograd.js";
import { keep, tidy } from "../torch/scope.js";
import type { Tensor } from "../torch/tensor.js";

/**
 * Shared mechanics of the optimizers: the learning rate, zeroing gradients, per-parameter state
 * tensors (named `<slot>.<index>` so a checkpoint can hold them) and their disposal.
 */
export abstract class Optimizer {
  lr: number;
  readonly params: readonly Tensor[];
  /** Number of step() calls so far (saved with the state). */
  steps = 0;
  readonly #state = new Map<string, Tensor>();

  constructor(params: readonly Tensor[], lr: number) {
    if (!(lr > 0)) throw new RangeError(`${new.target.name}: lr must be > 0, got ${lr}`);
    this.params = params;
    this.lr = lr;
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = undefined;
  }

  /** Applies one update from the parameters' .grad (parameters without a gradient are skipped). */
  step(): void {
    this.steps++;
    noGrad(() => tidy(() => {
      const indexes: number[] = [];
      const params: Tensor[] = [];
      const grads: Tensor[] = [];
      this.params.forEach((p, i) => {
        const g = p.grad;
        if (g === undefined) return;
        indexes.push(i);
        params.push(p);
        grads.push(g);
      });
      if (indexes.length) this.update(indexes, params, grads);
    }));
  }

  /** Updates `params` (those at `indexes` in this.params) from their gradients `grads` (one native call). */
  protected abstract update(indexes: readonly number[], params: readonly Tensor[], grads: readonly Tensor[]): void;

  /** A state tensor of parameter i, created by init() on first use and kept across steps. */
  protected slot(name: string, i: number, init: () => Tensor): [Tensor, boolean] {
    const key = `${name}.${i}`;
    const t = this.#state.get(key);
    if (t) return [t, false];
    const created = keep(init());
    this.#state.set(key, created);
    return [created, true];
  }

  /** Copies of the state tensors by name, for checkpoints. */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.#state].map(([k, t]) => [k, t.clone()]));
  }

  loadStateDict(state: Map<string, Tensor>, steps: number): void {
    this.dispose();
    for (const [k, t] of state) this.#state.set(k, keep(t.clone()));
    this.steps = steps;
  }

  dispose(): void {
    for (const t of this.#state.values()) t.dispose();
    this.#state.clear();
  }
}
