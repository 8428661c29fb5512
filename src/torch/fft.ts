// 2-D FFTs over the last two dims by default, with numpy/PyTorch's norm conventions.
import { h, w } from "./handles.js";
import { N } from "./native.js";
import type { Tensor } from "./tensor.js";

export type FftNorm = "backward" | "ortho" | "forward";
export interface FftOptions {
  /** Signal size per transformed dim (zero-pads or trims). */
  s?: readonly number[];
  dim?: readonly number[];
  norm?: FftNorm;
}
const DEFAULT_DIMS = [-2, -1];

export const fft2 = (t: Tensor, o?: FftOptions | null) => w(N.fft2(h(t), o?.s, o?.dim ?? DEFAULT_DIMS, o?.norm));
export const ifft2 = (t: Tensor, o?: FftOptions | null) => w(N.ifft2(h(t), o?.s, o?.dim ?? DEFAULT_DIMS, o?.norm));
export const rfft2 = (t: Tensor, o?: FftOptions | null) => w(N.rfft2(h(t), o?.s, o?.dim ?? DEFAULT_DIMS, o?.norm));
export const irfft2 = (t: Tensor, o?: FftOptions | null) => w(N.irfft2(h(t), o?.s, o?.dim ?? DEFAULT_DIMS, o?.norm));
/** Moves the zero frequency to index n // 2 along dims (all dims when absent). */
export const fftshift = (t: Tensor, dim?: readonly number[]) => w(N.fftshift(h(t), dim));
export const ifftshift = (t: Tensor, dim?: readonly number[]) => w(N.ifftshift(h(t), dim));
