// PyTorch's default initialisations, drawn from an explicit generator so a seed fixes a model.
import type { Generator } from "../torch/random.js";
import { rand, randn } from "../torch/ops.js";
import { tidy } from "../torch/scope.js";
import type { Tensor } from "../torch/tensor.js";

export const uniform = (shape: readonly number[], bound: number, generator?: Generator): Tensor =>
  tidy(() => rand(shape, { generator }).mul(2 * bound).sub(bound));

export const normal = (shape: readonly number[], std: number, generator?: Generator): Tensor =>
  tidy(() => randn(shape, { generator }).mul(std));

/**
 * nn.Linear / nn.Conv2d defaults: kaiming_uniform(a=√5) for the weight, which is
 * U(±1/√fan_in), and U(±1/√fan_in) for the bias.
 */
export function defaultWeight(shape: readonly number[], fanIn: number, generator?: Generator): Tensor {
  return uniform(shape, 1 / Math.sqrt(fanIn), generator);
}
export const defaultBias = defaultWeight;
