// Heatmaps and images: pixels encoded as PNG by pngjs, coloured by d3-scale-chromatic's colormaps,
// then placed by Vega-Lite on labelled axes with a colour bar (image mark + a colour legend).
import { interpolateMagma, interpolateViridis } from "d3-scale-chromatic";
import { PNG } from "pngjs";
import type { VlSpec } from "./vega.js";

export type Scheme = "viridis" | "magma";
const INTERPOLATE: Record<Scheme, (t: number) => string> = { viridis: interpolateViridis, magma: interpolateMagma };

/** Panels are drawn at about this many screen pixels a side; array cells are upscaled by an integer factor to it. */
const PANEL_PX = 200;

/** The colour of v on a colormap over domain [lo, hi] (clamped), as [r, g, b]. */
export function colorOf(v: number, domain: readonly [number, number], scheme: Scheme): [number, number, number] {
  const [lo, hi] = domain;
  const t = hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0.5;
  // NaN (no value) takes the low end, like −∞ (log of a zero magnitude).
  const hex = INTERPOLATE[scheme](Number.isNaN(t) ? 0 : t);
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}

/** Integer upscale so that a panel is about PANEL_PX wide: browsers smooth small images, which would blur frequency cells. */
export const upscale = (h: number, w: number): number => Math.max(1, Math.round(PANEL_PX / Math.max(h, w)));

function encode(h: number, w: number, scale: number, rgbAt: (i: number, j: number) => [number, number, number]): Buffer {
  const png = new PNG({ width: w * scale, height: h * scale });
  for (let y = 0; y < h * scale; y++) {
    for (let x = 0; x < w * scale; x++) {
      const [r, g, b] = rgbAt(Math.floor(y / scale), Math.floor(x / scale));
      const o = (y * w * scale + x) * 4;
      png.data[o] = r; png.data[o + 1] = g; png.data[o + 2] = b; png.data[o + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** A [H, W] array (row-major) as a colormapped PNG, row 0 at the top. */
export function heatmapPng(data: Float32Array, h: number, w: number, domain: readonly [number, number], scheme: Scheme): Buffer {
  return encode(h, w, upscale(h, w), (i, j) => colorOf(data[i * w + j]!, domain, scheme));
}

/**
 * A [C, H, W] image (C = 1 or 3) as a PNG. `signed`: a perturbation or predictor, shown as
 * 0.5 + x / (2 max|x|) so that zero is mid-grey and the sign is visible (the usual display of δ
 * and β); otherwise an image in [0, 1].
 */
export function imagePng(data: Float32Array, c: number, h: number, w: number, signed: boolean): Buffer {
  let m = 0;
  for (const v of data) m = Math.max(m, Math.abs(v));
  const f = (v: number) => Math.round(255 * Math.min(1, Math.max(0, signed ? (m > 0 ? 0.5 + v / (2 * m) : 0.5) : v)));
  const at = (ch: number, i: number, j: number) => f(data[(ch * h + i) * w + j]!);
  return encode(h, w, upscale(h, w), (i, j) => (c === 3 ? [at(0, i, j), at(1, i, j), at(2, i, j)] : [at(0, i, j), at(0, i, j), at(0, i, j)]));
}

export const dataUri = (mime: string, bytes: Buffer | string): string => `data:${mime};base64,${Buffer.from(bytes).toString("base64")}`;

/** What one heatmap panel shows: the array (kept so tests compare it with the study's files) and its PNG. */
export interface Panel {
  title: string;
  /** Row-major source values, exactly as read from the tensors file. */
  data: Float32Array;
  height: number;
  width: number;
  png: Buffer;
}

/**
 * Axes of a panel. Frequency: k = index − ⌊N/2⌋ (the fftshift'ed layout, DC at the centre), k_y
 * growing downwards as the array's rows do (src/analysis/spectrum.ts's convention). Pixel: x, y.
 */
function panelSpec(p: Panel, axes: "frequency" | "pixel", legend?: { domain: readonly [number, number]; scheme: Scheme; title: string }): VlSpec {
  const scale = upscale(p.height, p.width);
  const [x0, y0] = axes === "frequency" ? [-Math.floor(p.width / 2), -Math.floor(p.height / 2)] : [0, 0];
  const axis = (name: string, lo: number, n: number) => ({
    field: name, type: "quantitative",
    scale: { domain: [lo - 0.5, lo + n - 0.5], nice: false, zero: false, reverse: name === "y" },
    axis: { title: axes === "frequency" ? (name === "x" ? "k_x (cycles/image)" : "k_y (cycles/image)") : `${name} (pixels)`, tickMinStep: 1, format: "d", grid: false },
  });
  const layers: VlSpec[] = [{
    data: { values: [{ x: x0 - 0.5, y: y0 - 0.5, url: dataUri("image/png", p.png) }] },
    // aria: false keeps Vega from copying the whole data URI into an aria-label.
    mark: { type: "image", width: p.width * scale, height: p.height * scale, align: "left", baseline: "top", aspect: false, aria: false },
    encoding: { x: axis("x", x0, p.width), y: axis("y", y0, p.height), url: { field: "url", type: "nominal" } },
  }];
  if (legend) {
    // An invisible layer whose colour scale is the heatmap's colormap over the same domain: Vega-Lite draws it as the colour bar.
    layers.push({
      data: { values: [{ v: legend.domain[0] }, { v: legend.domain[1] }] },
      mark: { type: "point", opacity: 0, aria: false },
      encoding: { color: { field: "v", type: "quantitative", scale: { scheme: legend.scheme, domain: [...legend.domain] }, title: legend.title } },
    });
  }
  return { title: p.title, width: p.width * scale, height: p.height * scale, layer: layers };
}

/** Several panels in a grid; colormapped ones share one domain and one colour bar. */
export function panelsSpec(panels: Panel[], axes: "frequency" | "pixel", legend?: { domain: readonly [number, number]; scheme: Scheme; title: string }, columns = 4): VlSpec {
  const specs = panels.map((p, i) => panelSpec(p, axes, i === panels.length - 1 ? legend : undefined));
  return specs.length === 1 ? specs[0]! : { concat: specs, columns };
}

/** Smallest and largest finite value over arrays (a common colour domain). */
export function extent(arrays: Iterable<Float32Array>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) for (const v of a) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return lo <= hi ? [lo, hi] : [0, 1];
}
