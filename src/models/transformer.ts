// Patch-based models without convolutional locality beyond the patch (paper A's later versions;
// configurations for paper A's later versions, docs/studies.md). Pre-norm blocks; PyTorch default inits except the tokens.
import type { Generator } from "../torch/random.js";
import type { Tensor } from "../torch/tensor.js";
import { cat } from "../torch/ops.js";
import { normal } from "../nn/init.js";
import { Conv2d, GELU, LayerNorm, Linear, MultiheadSelfAttention } from "../nn/layers.js";
import { Module, Sequential } from "../nn/module.js";
import { commonOptions, defineModel } from "./common.js";
import { int, optionError } from "../util/schema.js";

const mlp = (dim: number, hidden: number, generator: Generator) =>
  new Sequential(new Linear(dim, hidden, { generator }), new GELU(), new Linear(hidden, dim, { generator }));

/** Non-overlapping p×p patches embedded by a stride-p conv: N×C×H×W → N×L×dim. */
class PatchEmbed extends Module {
  readonly proj: Conv2d;
  readonly tokens: number;
  constructor(model: string, inputShape: readonly number[], patch: number, dim: number, generator: Generator) {
    super();
    const [c, h, w] = inputShape as [number, number, number];
    if (h % patch !== 0 || w % patch !== 0) throw optionError(model, "patch", patch, `a divisor of both H = ${h} and W = ${w}`);
    this.tokens = (h / patch) * (w / patch);
    this.proj = this.child("proj", new Conv2d(c, dim, patch, { stride: patch, generator }));
  }
  forward(x: Tensor): Tensor {
    return this.proj.forward(x).flatten(2).transpose(1, 2);
  }
}

class EncoderBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: MultiheadSelfAttention;
  readonly norm2: LayerNorm;
  readonly mlp: Sequential;
  constructor(dim: number, heads: number, mlpDim: number, generator: Generator) {
    super();
    this.norm1 = this.child("norm1", new LayerNorm([dim]));
    this.attn = this.child("attn", new MultiheadSelfAttention(dim, heads, { generator }));
    this.norm2 = this.child("norm2", new LayerNorm([dim]));
    this.mlp = this.child("mlp", mlp(dim, mlpDim, generator));
  }
  forward(x: Tensor): Tensor {
    const h = x.add(this.attn.forward(this.norm1.forward(x)));
    return h.add(this.mlp.forward(this.norm2.forward(h)));
  }
}

export interface VitOptions {
  inputShape: number[];
  classes: number;
  patch: number;
  dim: number;
  depth: number;
  heads: number;
  mlpDim: number;
}

/** ViT: patch embedding, a class token, learned positions, pre-norm encoder, head on the class token. */
export class ViT extends Module {
  readonly patchEmbed: PatchEmbed;
  readonly blocks: Sequential;
  readonly norm: LayerNorm;
  readonly head: Linear;
  constructor(o: VitOptions, generator: Generator) {
    super();
    if (o.dim % o.heads !== 0) throw optionError("vit", "heads", o.heads, `a divisor of dim = ${o.dim}`);
    this.patchEmbed = this.child("patch_embed", new PatchEmbed("vit", o.inputShape, o.patch, o.dim, generator));
    // N(0, 0.02²) as in timm / the original ViT.
    this.param("cls_token", normal([1, 1, o.dim], 0.02, generator));
    this.param("pos_embed", normal([1, this.patchEmbed.tokens + 1, o.dim], 0.02, generator));
    this.blocks = this.child("blocks", new Sequential(...Array.from({ length: o.depth }, () => new EncoderBlock(o.dim, o.heads, o.mlpDim, generator))));
    this.norm = this.child("norm", new LayerNorm([o.dim]));
    this.head = this.child("head", new Linear(o.dim, o.classes, { generator }));
  }
  forward(x: Tensor): Tensor {
    const tokens = this.patchEmbed.forward(x);
    const cls = this.get("cls_token").expand(x.shape[0]!, 1, tokens.shape[2]!);
    const h = this.blocks.forward(cat([cls, tokens], 1).add(this.get("pos_embed")));
    return this.head.forward(this.norm.forward(h).select(1, 0));
  }
}

export const vit = defineModel({
  summary: "Vision Transformer (our configuration for paper A: patch 4, dim 256, depth 6, 8 heads, MLP 512), class-token head",
  schema: {
    ...commonOptions([3, 32, 32]),
    patch: int(1)(4, "patch side (divides H and W)"),
    dim: int(1)(256, "token width"),
    depth: int(1)(6, "encoder blocks"),
    heads: int(1)(8, "attention heads (divide dim)"),
    mlpDim: int(1)(512, "hidden width of each block's MLP"),
  },
  build: (o, g) => new ViT(o, g),
});

class MixerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly tokenMlp: Sequential;
  readonly norm2: LayerNorm;
  readonly channelMlp: Sequential;
  constructor(tokens: number, dim: number, tokenMlpDim: number, channelMlpDim: number, generator: Generator) {
    super();
    this.norm1 = this.child("norm1", new LayerNorm([dim]));
    this.tokenMlp = this.child("token_mlp", mlp(tokens, tokenMlpDim, generator));
    this.norm2 = this.child("norm2", new LayerNorm([dim]));
    this.channelMlp = this.child("channel_mlp", mlp(dim, channelMlpDim, generator));
  }
  forward(x: Tensor): Tensor {
    const h = x.add(this.tokenMlp.forward(this.norm1.forward(x).transpose(1, 2)).transpose(1, 2));
    return h.add(this.channelMlp.forward(this.norm2.forward(h)));
  }
}

export interface MixerOptions {
  inputShape: number[];
  classes: number;
  patch: number;
  dim: number;
  depth: number;
  tokenMlpDim: number;
  channelMlpDim: number;
}

/** MLP-Mixer: token-mixing and channel-mixing MLPs, global average over tokens, Linear head. */
export class MlpMixer extends Module {
  readonly stem: PatchEmbed;
  readonly blocks: Sequential;
  readonly norm: LayerNorm;
  readonly head: Linear;
  constructor(o: MixerOptions, generator: Generator) {
    super();
    this.stem = this.child("stem", new PatchEmbed("mlp-mixer", o.inputShape, o.patch, o.dim, generator));
    const tokens = this.stem.tokens;
    this.blocks = this.child("blocks", new Sequential(...Array.from({ length: o.depth },
      () => new MixerBlock(tokens, o.dim, o.tokenMlpDim, o.channelMlpDim, generator))));
    this.norm = this.child("norm", new LayerNorm([o.dim]));
    this.head = this.child("head", new Linear(o.dim, o.classes, { generator }));
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.norm.forward(this.blocks.forward(this.stem.forward(x))).mean(1));
  }
}

export const mlpMixer = defineModel({
  summary: "MLP-Mixer (our configuration for paper A: patch 4, dim 256, depth 8, token-MLP 128, channel-MLP 512), mean-pooled head",
  schema: {
    ...commonOptions([3, 32, 32]),
    patch: int(1)(4, "patch side (divides H and W)"),
    dim: int(1)(256, "channel width"),
    depth: int(1)(8, "mixer blocks"),
    tokenMlpDim: int(1)(128, "hidden width of the token-mixing MLP"),
    channelMlpDim: int(1)(512, "hidden width of the channel-mixing MLP"),
  },
  build: (o, g) => new MlpMixer(o, g),
});
