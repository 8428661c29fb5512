// Singular values of every layer's weights (paper C's layer spectra): dense layers by SVD, conv
// layers by Sedghi, Gupta & Long (2019), "The singular values of convolutional layers": a
// circular convolution is block-diagonalised by the 2-D DFT, so its singular values are those of
// the O×C matrices K̂(u, v) of the kernel's DFT at the input's size, over all n² frequencies.
import type { AttackModel } from "../nn/attack-model.js";
import { CircularConv2d, Conv2d } from "../nn/layers.js";
import type { Module } from "../nn/module.js";
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";
import { asAttackModel, checkInputShape, type AnalysedModel } from "./linear.js";

export interface LayerSpectrum {
  /** The parameter's state-dict key, e.g. "layer1.0.conv1.weight". */
  name: string;
  /** "conv-reshaped" (with { reshaped: true }): the same conv weight as the O × (C·k·k) matrix. */
  kind: "dense" | "conv" | "conv-reshaped";
  /** Singular values, descending, on the CPU in the weight's dtype. */
  values: Tensor;
}

type Conv = Conv2d | CircularConv2d;

function convModules(m: Module, prefix = ""): [string, Conv][] {
  const own: [string, Conv][] = m instanceof Conv2d || m instanceof CircularConv2d ? [[prefix, m]] : [];
  return own.concat(...m.children().map(([k, c]) => convModules(c, `${prefix}${k}.`)));
}

/**
 * The spatial size of each conv layer's input, from one forward pass of a zero input: layers have
 * no hooks, so each conv's forward is shadowed on the instance for that pass and restored after.
 */
function convInputSizes(m: AttackModel, convs: [string, Conv][], inputShape: readonly number[]): Map<Conv, [number, number]> {
  const sizes = new Map<Conv, [number, number]>();
  for (const [, conv] of convs) {
    const forward = conv.forward.bind(conv);
    Object.defineProperty(conv, "forward", {
      configurable: true,
      value: (x: Tensor) => {
        sizes.set(conv, [x.shape[2]!, x.shape[3]!]);
        return forward(x);
      },
    });
  }
  try {
    const p = m.module.parameters()[0];
    torch.tidy(() => torch.noGrad(() => m.logits(torch.zeros([1, ...inputShape], { dtype: p?.dtype, device: p?.device }))));
  } finally {
    for (const [, conv] of convs) delete (conv as { forward?: unknown }).forward;
  }
  return sizes;
}

/**
 * Sedghi et al.'s singular values of the stride-1 circular convolution with `weight`
 * [O, C/groups, k, k] on h×w inputs. A kernel larger than the input wraps around the torus: the
 * DFT of the folded kernel at size n is the size-m·n DFT sampled every m-th frequency.
 */
export function convSingularValues(weight: Tensor, h: number, w: number, groups = 1): Tensor {
  if (weight.ndim !== 4) throw new RangeError(`convSingularValues: expected a [O, C, k, k] kernel, got shape [${weight.shape.join(", ")}]`);
  const [o, c, kh, kw] = weight.shape as [number, number, number, number];
  if (o % groups !== 0) throw new RangeError(`convSingularValues: ${o} output channels do not split into ${groups} groups`);
  const [mh, mw] = [Math.ceil(kh / h), Math.ceil(kw / w)];
  return torch.tidy(() => {
    const K = torch.fft.fft2(weight.detach(), { s: [mh * h, mw * w] }).slice(2, 0, undefined, mh).slice(3, 0, undefined, mw);
    const blocks = K.permute(2, 3, 0, 1).reshape(h, w, groups, o / groups, c); // one O/g × C/g matrix per frequency and group
    return torch.sort(torch.linalg.svdvals(blocks).flatten(), -1, true).values.cpu();
  });
}

/**
 * Singular values of a kernel [O, ...] seen as the O × (C·k·k) matrix of weight.reshape(O, −1):
 * the cheap proxy for a conv layer's spectrum that ignores the spatial structure (beside Sedghi's
 * exact circular one). Descending, on the CPU in the weight's dtype.
 */
export function reshapedKernelSingularValues(weight: Tensor): Tensor {
  if (weight.ndim < 2) throw new RangeError(`reshapedKernelSingularValues: expected a weight [O, ...] with 2 or more dims, got shape [${weight.shape.join(", ")}]`);
  return torch.tidy(() => torch.linalg.svdvals(weight.detach().reshape(weight.shape[0]!, -1)).cpu());
}

export interface SingularValueSummary {
  max: number;
  mean: number;
  min: number;
  /** σ_min / σ_max (NaN when every value is 0). */
  ratio: number;
  /** −Σ p_i log p_i / log n with p_i = σ_i / Σσ_j: 1 for a flat spectrum, 0 for one direction (and for n = 1); NaN when every value is 0. */
  entropy: number;
}

/** Flatness of a spectrum (paper C: adversarial training flattens the layers' singular values), from 1-D non-negative values in any order. */
export function summarizeSingularValues(values: Tensor): SingularValueSummary {
  if (values.ndim !== 1 || values.numel === 0) throw new RangeError(`summarizeSingularValues: expected non-empty 1-D values, got shape [${values.shape.join(", ")}]`);
  return torch.tidy(() => torch.noGrad(() => {
    const v = values.detach().cpu().double();
    const [max, mean, min, sum] = [v.max().item(), v.mean().item(), v.min().item(), v.sum().item()];
    if (!(min >= 0)) throw new RangeError(`summarizeSingularValues: singular values must be non-negative, got ${min}`);
    const n = v.numel;
    const p = v.div(sum);
    const plogp = torch.where(p.gt(0), p.mul(p.log()), torch.zerosLike(p));
    const entropy = !(sum > 0) ? NaN : n === 1 ? 0 : Math.max(0, -plogp.sum().item() / Math.log(n));
    return { max, mean, min, ratio: min / max, entropy };
  }));
}

/**
 * Singular values of every 2-D weight (dense) and of every Conv2d / CircularConv2d weight (conv,
 * at the size of that layer's input for a [1, ...inputShape] example; strides and zero padding
 * are ignored, the circular approximation). Other parameters (biases, norms, locally
 * connected kernels, embeddings) are not linear maps of their own and are skipped. In state-dict order.
 * With { reshaped: true }, each conv entry is followed by its "conv-reshaped" one (reshapedKernelSingularValues).
 */
export function layerSpectra(model: AnalysedModel, inputShape: readonly number[], o: { reshaped?: boolean } = {}): LayerSpectrum[] {
  checkInputShape(inputShape, "layerSpectra");
  const m = asAttackModel(model);
  const module = m.module;
  const convs = convModules(module);
  const sizes = convs.length ? convInputSizes(m, convs, inputShape) : new Map<Conv, [number, number]>();
  const convOf = new Map(convs.map(([prefix, conv]) => [`${prefix}weight`, conv]));
  const out: LayerSpectrum[] = [];
  for (const [name, p] of module.namedParameters()) {
    const conv = convOf.get(name);
    if (conv) {
      const size = sizes.get(conv);
      if (!size) continue; // not on the forward path of this input
      out.push({ name, kind: "conv", values: convSingularValues(p, size[0], size[1], conv instanceof Conv2d ? conv.groups : 1) });
      if (o.reshaped) out.push({ name, kind: "conv-reshaped", values: reshapedKernelSingularValues(p) });
    } else if (p.ndim === 2) {
      out.push({ name, kind: "dense", values: torch.tidy(() => torch.linalg.svdvals(p.detach()).cpu()) });
    }
  }
  return out;
}
