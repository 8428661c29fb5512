// Vega-Lite specs compiled and rendered to SVG on the server (vega's headless View: no canvas,
// no browser, no network). Vega is loaded on the first figure: importing advdyn should not pay
// the half second it takes.
import type { TopLevelSpec } from "vega-lite";

/** A Vega-Lite spec as plain JSON: its inline `data.values` are exactly what the figure shows. */
export type VlSpec = Record<string, unknown>;

// Long legend labels ("random r, ‖r‖ = ‖δ‖", attack keys) must not be cut off: they name the series.
const CONFIG = { font: "sans-serif", view: { stroke: "#ccc" }, axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400 }, header: { labelFontSize: 12, titleFontSize: 12 } };

export async function renderSvg(spec: VlSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const compiled = vl.compile({ ...spec, config: CONFIG, background: "white", padding: 8 } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
