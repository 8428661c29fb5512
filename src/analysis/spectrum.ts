// Fourier analysis of perturbations and linear predictors (paper A; conventions in docs/methods.md):
// the centred 2-D DFT of the luminance (paper A's code path) or of every channel, its L1/L2 norms,
// the high-frequency scalars and the radial/angular energy marginals.
import * as torch from "../torch/index.js";
import type { Tensor } from "../torch/index.js";

/** "luminance": 0.2989 R + 0.5870 G + 0.1140 B first (paper A), one spectrum per example; "channels": one per channel. */
export type SpectrumMode = "luminance" | "channels";
export interface SpectrumOptions {
  /** Default "luminance". */
  mode?: SpectrumMode;
  /** "backward" (default) is numpy's unnormalised fft2, the scale of paper A's ‖δ̂‖ tables; "ortho" preserves ‖·‖₂. */
  norm?: "backward" | "ortho";
}

const LUMINANCE = [0.2989, 0.587, 0.114];
export const ANGULAR_BINS = 18;
/** The high-frequency cutoffs (our choice, docs/methods.md), in cycles per image (absolute, whatever the image size). */
const HF_CUTOFFS = [8, 12] as const;

function checkImages(x: Tensor, fn: string): void {
  if (!(x instanceof torch.Tensor)) throw new TypeError(`${fn}: expected a Tensor`);
  if (x.ndim !== 4 || x.shape.slice(1).some((d) => d < 1)) {
    throw new RangeError(`${fn}: expected images [N, C, H, W] with C, H, W ≥ 1, got shape [${x.shape.join(", ")}]`);
  }
  if (!torch.isFloating(x.dtype)) throw new TypeError(`${fn}: expected float32 or float64 images, got ${x.dtype}`);
}

function checkOptions(o: SpectrumOptions | undefined, fn: string): Required<SpectrumOptions> {
  const mode = o?.mode ?? "luminance";
  const norm = o?.norm ?? "backward";
  if (mode !== "luminance" && mode !== "channels") throw new RangeError(`${fn}: mode must be "luminance" or "channels", got ${JSON.stringify(mode)}`);
  if (norm !== "backward" && norm !== "ortho") throw new RangeError(`${fn}: norm must be "backward" or "ortho", got ${JSON.stringify(norm)}`);
  return { mode, norm };
}

/**
 * [N, C, H, W] → [N, H, W]: the ITU-R 601 luma paper A's code takes of RGB, or the single channel
 * of grayscale images (MNIST skips the conversion). Other channel counts have no luminance.
 */
export function luminance(x: Tensor): Tensor {
  checkImages(x, "luminance");
  const c = x.shape[1]!;
  if (c === 1) return x.squeeze(1);
  if (c !== 3) throw new RangeError(`luminance: needs 1 (grayscale) or 3 (RGB) channels, got ${c}; use mode "channels"`);
  return torch.tidy(() => x.mul(torch.tensor(LUMINANCE, { dtype: x.dtype, device: x.device, shape: [1, 3, 1, 1] })).sum(1));
}

/**
 * [N, C, H, W] → [N, 1, H, W]: the luminance of each example scaled to [0, 1] by its own minimum
 * and maximum (a constant image becomes 0). Paper A's code scales saliency maps this way before
 * the DFT; its Table 1 ‖β̂‖₂ ≈ 500–555 for models of any depth and learning rate fits this scale,
 * where the DC term alone is HW × the mean (≈ 512 at mean ½ on 32×32).
 */
export function minMaxLuminance(x: Tensor): Tensor {
  return torch.tidy(() => {
    const g = luminance(x);
    const flat = g.flatten(1);
    const lo = flat.amin(1).reshape(-1, 1, 1);
    const range = flat.amax(1).reshape(-1, 1, 1).sub(lo);
    return g.sub(lo).div(range.clamp(1e-30)).unsqueeze(1);
  });
}

/**
 * The complex DFT over the last two dims, fftshift'ed so that frequency (0, 0) sits at index
 * (H // 2, W // 2) and frequency (u, v) at (H // 2 + u, W // 2 + v), u, v ∈ [−H//2, (H−1)//2].
 * [N, C, H, W] images give [N, H, W] in luminance mode and [N, C, H, W] in channels mode.
 */
export function centredSpectrum(x: Tensor, o?: SpectrumOptions): Tensor {
  checkImages(x, "centredSpectrum");
  const { mode, norm } = checkOptions(o, "centredSpectrum");
  return torch.tidy(() => torch.fft.fftshift(torch.fft.fft2(mode === "luminance" ? luminance(x) : x, { norm }), [-2, -1]));
}

/** Energy |F|² per frequency [N, H, W] (summed over channels in channels mode), and |F| over every coefficient. */
function energyAndMagnitude(x: Tensor, o: Required<SpectrumOptions>): { energy: Tensor; magnitude: Tensor } {
  const mag = centredSpectrum(x, o).abs();
  const energy = mag.square();
  return { energy: o.mode === "channels" ? energy.sum(1) : energy, magnitude: mag };
}

interface Grid {
  /** |frequency| of each centred index, row-major H·W. */
  radius: number[];
  radial: number[];
  /** −1 at DC, which has no direction. */
  angular: number[];
  radialBins: number;
}
const grids = new Map<string, Grid>();

/**
 * Polar coordinates of the centred frequency grid, computed once per size in float64 JS so that
 * bin edges do not depend on the tensor dtype. u counts along W (image x), v along H (image rows,
 * downwards); φ = atan2(v, u) folded to [0°, 180°) because a real signal's spectrum is symmetric
 * under (u, v) → (−u, −v).
 */
function grid(h: number, w: number): Grid {
  const key = `${h}x${w}`;
  let g = grids.get(key);
  if (!g) {
    const radius: number[] = [];
    const angular: number[] = [];
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const v = i - Math.floor(h / 2);
        const u = j - Math.floor(w / 2);
        radius.push(Math.hypot(u, v));
        const deg = (Math.atan2(v, u) * 180) / Math.PI;
        // The guard keeps exact 0°/90° (which atan2 may return a hair below) in the bin they open.
        angular.push(u === 0 && v === 0 ? -1 : Math.floor((deg < 0 ? deg + 180 : deg) / 10 + 1e-9) % ANGULAR_BINS);
      }
    }
    g = { radius, radial: radius.map(Math.floor), angular, radialBins: radialBinCount(h, w) };
    grids.set(key, g);
  }
  return g;
}

/** Radial bins floor(r) = 0 … floor(√((H//2)² + (W//2)²)): 23 at 32×32, 20 at 28×28. Bin 0 holds DC alone. */
export function radialBinCount(h: number, w: number): number {
  if (!(Number.isInteger(h) && Number.isInteger(w) && h >= 1 && w >= 1)) throw new RangeError(`radialBinCount: expected positive integer sizes, got ${h}×${w}`);
  return Math.floor(Math.hypot(Math.floor(h / 2), Math.floor(w / 2))) + 1;
}

/** Axis positions of the radial bins: bin k holds radii in [k, k + 1). */
export const radialBinCentres = (h: number, w: number): number[] => Array.from({ length: radialBinCount(h, w) }, (_, k) => k + 0.5);
/** Axis positions of the angular bins in degrees: 5, 15, …, 175. */
export const angularBinCentres = (): number[] => Array.from({ length: ANGULAR_BINS }, (_, k) => 10 * k + 5);

/** A [H·W, bins] 0/1 matrix sending each frequency to its bin (rows of index −1 are all zero). */
function binMatrix(bins: number[], count: number, like: Tensor): Tensor {
  const m = new Float64Array(bins.length * count);
  bins.forEach((b, i) => { if (b >= 0) m[i * count + b] = 1; });
  return torch.tensor(m, { shape: [bins.length, count], dtype: like.dtype, device: like.device });
}

export interface SpectrumSummary {
  /** ‖F‖₁ over all coefficients (all channels in channels mode), [N]. */
  l1: Tensor;
  /** ‖F‖₂, [N]. */
  l2: Tensor;
  /** l1 / l2: between 1 (one coefficient) and √(coefficients) (flat); paper A's sparsity proxy. */
  sparsity: Tensor;
  /** Σ r·E / Σ E, in cycles per image. */
  centroid: Tensor;
  /** Fraction of E at r > 8. */
  hf8: Tensor;
  /** Fraction of E at r > 12. */
  hf12: Tensor;
  /** [N, R]: E per radial bin floor(r), each row summing to 1; bin 0 is DC. */
  radial: Tensor;
  /** [N, 18]: E per 10° bin of the folded angle, DC excluded, each row summing to 1. */
  angular: Tensor;
}

/**
 * Per-example summaries of the centred spectrum, on the energy E = |F|² (summed over channels in
 * channels mode), on the CPU in the input's float dtype. An all-zero example (e.g. a failed
 * attack) has no spectrum to normalise: its ratios are NaN, so callers exclude such examples
 * first, as paper A does.
 */
export function summarizeSpectrum(x: Tensor, o?: SpectrumOptions): SpectrumSummary {
  checkImages(x, "summarizeSpectrum");
  const opts = checkOptions(o, "summarizeSpectrum");
  const [h, w] = [x.shape[2]!, x.shape[3]!];
  const g = grid(h, w);
  return torch.tidy(() => {
    const { energy, magnitude } = energyAndMagnitude(x, opts);
    const e = energy.flatten(1);
    const total = e.sum(1);
    const l1 = magnitude.flatten(1).sum(1);
    const l2 = total.sqrt();
    const radius = torch.tensor(g.radius, { dtype: e.dtype, device: e.device });
    const fraction = (cutoff: number) => e.mul(radius.gt(cutoff).to(e.dtype)).sum(1).div(total);
    const angular = e.matmul(binMatrix(g.angular, ANGULAR_BINS, e));
    const summary: SpectrumSummary = {
      l1,
      l2,
      sparsity: l1.div(l2),
      centroid: e.mul(radius).sum(1).div(total),
      hf8: fraction(HF_CUTOFFS[0]),
      hf12: fraction(HF_CUTOFFS[1]),
      radial: e.matmul(binMatrix(g.radial, g.radialBins, e)).div(total.unsqueeze(1)),
      angular: angular.div(angular.sum(1, true)),
    };
    for (const k of Object.keys(summary) as (keyof SpectrumSummary)[]) summary[k] = summary[k].cpu();
    return summary;
  });
}

/**
 * Spectra averaged over examples, each [H, W] centred: energy = mean E, magnitude = mean √E
 * (= mean |F| in luminance mode), logMagnitude = log(magnitude), the log of the mean rather than
 * the mean of logs, so frequencies where only a few examples put energy still show (−∞ where
 * no example has any). Needs at least one example.
 */
export function meanSpectrum(x: Tensor, o?: SpectrumOptions): { energy: Tensor; magnitude: Tensor; logMagnitude: Tensor } {
  checkImages(x, "meanSpectrum");
  const opts = checkOptions(o, "meanSpectrum");
  if (x.shape[0] === 0) throw new RangeError("meanSpectrum: no examples to average");
  return torch.tidy(() => {
    const { energy } = energyAndMagnitude(x, opts);
    const magnitude = energy.sqrt().mean(0).cpu();
    return { energy: energy.mean(0).cpu(), magnitude, logMagnitude: magnitude.log() };
  });
}
