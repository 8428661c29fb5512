import { h, hs, wOpt } from "./handles.js";
import { N } from "./native.js";
import type { Tensor } from "./tensor.js";

function withGradMode<R>(enabled: boolean, fn: () => R): R {
  const previous = N.is_grad_enabled();
  N.set_grad_enabled(enabled);
  try {
    return fn();
  } finally {
    N.set_grad_enabled(previous);
  }
}

/** Runs fn (synchronous) with gradient recording off. */
export const noGrad = <R>(fn: () => R): R => withGradMode(false, fn);
/** Runs fn (synchronous) with gradient recording on, e.g. inside noGrad. */
export const enableGrad = <R>(fn: () => R): R => withGradMode(true, fn);
export const isGradEnabled = (): boolean => N.is_grad_enabled();

export interface GradOptions {
  gradOutputs?: readonly Tensor[];
  /** Keep the graph for another backward pass (defaults to createGraph, as in PyTorch). */
  retainGraph?: boolean;
  /** Record the gradient computation itself (for higher-order derivatives). */
  createGraph?: boolean;
  /** Return undefined for inputs the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/**
 * Gradients of outputs with respect to inputs, returned rather than accumulated into .grad:
 * attacks use it to take input gradients without touching parameters' gradients.
 */
export function grad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], o?: GradOptions | null): (Tensor | undefined)[] {
  const outs = Array.isArray(outputs) ? hs(outputs, "outputs") : [h(outputs as Tensor, "outputs")];
  const ins = Array.isArray(inputs) ? hs(inputs, "inputs") : [h(inputs as Tensor, "inputs")];
  const gouts = o?.gradOutputs == null ? undefined : hs(o.gradOutputs, "gradOutputs");
  return N.autograd_grad(outs, ins, gouts, o?.retainGraph, o?.createGraph ?? false, o?.allowUnused ?? false).map(wOpt);
}
