import { noGrad } from "../torch/autograd.js";
import * as F from "../torch/functional.js";
import { fft } from "../torch/index.js";
import { ones, zeros } from "../torch/ops.js";
import type { Generator } from "../torch/random.js";
import type { Tensor } from "../torch/tensor.js";
import { defaultBias, defaultWeight, uniform } from "./init.js";
import { Module } from "./module.js";

/** Where a layer's initial weights come from (the global generator when absent). */
export interface InitOptions {
  generator?: Generator;
}

export class Linear extends Module {
  constructor(readonly inFeatures: number, readonly outFeatures: number, o: InitOptions & { bias?: boolean } = {}) {
    super();
    this.param("weight", defaultWeight([outFeatures, inFeatures], inFeatures, o.generator));
    this.hasBias = o.bias ?? true;
    if (this.hasBias) this.param("bias", defaultBias([outFeatures], inFeatures, o.generator));
  }
  private readonly hasBias: boolean;
  forward(x: Tensor): Tensor {
    return F.linear(x, this.get("weight"), this.hasBias ? this.get("bias") : undefined);
  }
}

export interface Conv2dOptions extends InitOptions {
  stride?: number;
  /** Per side; "same" keeps the size (odd kernels), "valid" = 0. */
  padding?: number | "same" | "valid";
  /** "zeros" pads with zeros, "circular" wraps around (a convolution on the torus). */
  paddingMode?: "zeros" | "circular";
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly stride: number;
  readonly padding: number;
  readonly paddingMode: "zeros" | "circular";
  readonly dilation: number;
  readonly groups: number;
  private readonly hasBias: boolean;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, o: Conv2dOptions = {}) {
    super();
    this.stride = o.stride ?? 1;
    this.dilation = o.dilation ?? 1;
    this.groups = o.groups ?? 1;
    const pad = o.padding ?? 0;
    if (pad === "same" && (kernelSize % 2 === 0 || this.stride !== 1)) throw new RangeError("Conv2d: padding 'same' needs an odd kernel and stride 1");
    this.padding = pad === "valid" ? 0 : pad === "same" ? (this.dilation * (kernelSize - 1)) / 2 : pad;
    this.paddingMode = o.paddingMode ?? "zeros";
    this.hasBias = o.bias ?? true;
    const fanIn = (inChannels / this.groups) * kernelSize * kernelSize;
    this.param("weight", defaultWeight([outChannels, inChannels / this.groups, kernelSize, kernelSize], fanIn, o.generator));
    if (this.hasBias) this.param("bias", defaultBias([outChannels], fanIn, o.generator));
  }
  forward(x: Tensor): Tensor {
    const bias = this.hasBias ? this.get("bias") : undefined;
    const opts = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode === "circular" && this.padding > 0) {
      const p = this.padding;
      return F.conv2d(F.pad(x, [p, p, p, p], "circular"), this.get("weight"), bias, opts);
    }
    return F.conv2d(x, this.get("weight"), bias, { ...opts, padding: this.padding });
  }
}

/**
 * Convolution on the torus with a kernel as large as the image (paper A's full-width conv):
 * y[o,i,j] = b[o] + Σ_c Σ_{a,b} w[o,c,a,b] · x[c,(i+a) mod H,(j+b) mod W], an H×W map.
 * Computed in the Fourier domain (cross-correlation = conj(Ŵ)·X̂), O(HW log HW) per channel pair
 * instead of O((HW)²); tests check it against the direct circular sum.
 */
export class CircularConv2d extends Module {
  private readonly hasBias: boolean;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly size: number, o: InitOptions & { bias?: boolean } = {}) {
    super();
    const fanIn = inChannels * size * size;
    this.hasBias = o.bias ?? true;
    this.param("weight", defaultWeight([outChannels, inChannels, size, size], fanIn, o.generator));
    if (this.hasBias) this.param("bias", defaultBias([outChannels], fanIn, o.generator));
  }
  forward(x: Tensor): Tensor {
    const [H, W] = [x.shape[2]!, x.shape[3]!];
    if (H !== this.size || W !== this.size) throw new RangeError(`CircularConv2d: expected ${this.size}×${this.size} inputs, got ${H}×${W}`);
    const X = fft.rfft2(x).unsqueeze(1); // N,1,C,H,W/2+1
    const Wf = fft.rfft2(this.get("weight")).conj(); // O,C,H,W/2+1
    const y = fft.irfft2(X.mul(Wf).sum(2), { s: [H, W] });
    return this.hasBias ? y.add(this.get("bias").reshape(1, this.outChannels, 1, 1)) : y;
  }
}

/**
 * Unshared k×k filters: every output position has its own weights. One batched matmul over
 * positions (L × N × CKK by L × CKK × O), not L small ones.
 */
export class LocallyConnected2d extends Module {
  readonly outSize: number;
  private readonly hasBias: boolean;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly inSize: number, readonly kernelSize: number,
    o: InitOptions & { stride?: number; padding?: number; bias?: boolean } = {}) {
    super();
    this.stride = o.stride ?? 1;
    this.padding = o.padding ?? 0;
    this.outSize = Math.floor((inSize + 2 * this.padding - kernelSize) / this.stride) + 1;
    const L = this.outSize * this.outSize;
    const fanIn = inChannels * kernelSize * kernelSize;
    this.hasBias = o.bias ?? true;
    // Each position's kernel follows nn.Conv2d's default, so LC and conv agree in distribution at init.
    this.param("weight", defaultWeight([L, fanIn, outChannels], fanIn, o.generator));
    if (this.hasBias) this.param("bias", defaultBias([outChannels, this.outSize, this.outSize], fanIn, o.generator));
  }
  readonly stride: number;
  readonly padding: number;
  forward(x: Tensor): Tensor {
    const n = x.shape[0]!;
    const cols = F.unfold(x, this.kernelSize, { padding: this.padding, stride: this.stride }); // N, CKK, L
    const y = cols.permute(2, 0, 1).matmul(this.get("weight")); // L, N, O
    const out = y.permute(1, 2, 0).reshape(n, this.outChannels, this.outSize, this.outSize);
    return this.hasBias ? out.add(this.get("bias")) : out;
  }
}

export class BatchNorm2d extends Module {
  constructor(readonly numFeatures: number, readonly o: { eps?: number; momentum?: number } = {}) {
    super();
    this.param("weight", ones([numFeatures]));
    this.param("bias", zeros([numFeatures]));
    this.buffer("running_mean", zeros([numFeatures]));
    this.buffer("running_var", ones([numFeatures]));
    this.buffer("num_batches_tracked", zeros([], { dtype: "int64" }));
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.get("num_batches_tracked").add_(1);
    return F.batchNorm(x, this.get("running_mean"), this.get("running_var"), {
      weight: this.get("weight"), bias: this.get("bias"), training: this.training, momentum: this.o.momentum ?? 0.1, eps: this.o.eps ?? 1e-5,
    });
  }
}

export class LayerNorm extends Module {
  constructor(readonly normalizedShape: number[], readonly eps = 1e-5) {
    super();
    this.param("weight", ones(normalizedShape));
    this.param("bias", zeros(normalizedShape));
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.get("weight"), this.get("bias"), this.eps);
  }
}

/** Self-attention with nn.MultiheadAttention's parameter names (in_proj_*, out_proj.*); x is N×L×D. */
export class MultiheadSelfAttention extends Module {
  readonly outProj: Linear;
  constructor(readonly dim: number, readonly heads: number, o: InitOptions = {}) {
    super();
    if (dim % heads !== 0) throw new RangeError(`MultiheadSelfAttention: dim ${dim} is not divisible by ${heads} heads`);
    // nn.MultiheadAttention: xavier_uniform in_proj (fan_in d, fan_out 3d), zero biases (out_proj's too).
    this.param("in_proj_weight", uniform([3 * dim, dim], Math.sqrt(6 / (4 * dim)), o.generator));
    this.param("in_proj_bias", zeros([3 * dim]));
    this.outProj = this.child("out_proj", new Linear(dim, dim, o));
    noGrad(() => this.outProj.stateDict().get("bias")!.zero_());
  }
  forward(x: Tensor): Tensor {
    const [n, l, d] = x.shape as [number, number, number];
    const hd = d / this.heads;
    const qkv = F.linear(x, this.get("in_proj_weight"), this.get("in_proj_bias")).reshape(n, l, 3, this.heads, hd).permute(2, 0, 3, 1, 4);
    const [q, k, v] = [qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2)];
    const attn = F.softmax(q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(hd)), -1);
    return this.outProj.forward(attn.matmul(v).transpose(1, 2).reshape(n, l, d));
  }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5, readonly generator?: Generator) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training, this.generator);
  }
}

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: number, readonly stride = kernelSize, readonly padding = 0, readonly ceilMode = false) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, ceilMode: this.ceilMode });
  }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: number, readonly stride = kernelSize, readonly padding = 0) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.leakyRelu(x, this.negativeSlope);
  }
}

export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return F.gelu(x);
  }
}

export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return x.flatten(1);
  }
}

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}
