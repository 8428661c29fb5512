// Paper C's figures, from the at-regularization study's rows: clean and robust accuracy against the
// training ε, layer and local-Jacobian spectrum summaries per layer (a line per ε), and the margin,
// confidence and distance-to-boundary distributions per ε. The models of one family differ only
// in the training ε, which study.json records as the model option `eps`.
import type { ModelEntry } from "../store/study-folder.js";
import type { Ctx, Figure } from "./figures.js";
import { type VlSpec, renderSvg } from "./vega.js";

/** The study's adversarial-training models (option eps) by key. */
function atModels(ctx: Ctx): Map<string, ModelEntry & { eps255: number }> {
  return new Map(ctx.study.models.filter((m) => m.group && typeof m.options.eps === "number")
    .map((m) => [m.key, { ...m, eps255: Math.round((m.options.eps as number) * 255 * 100) / 100 }]));
}

const figureId = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_");
const EPS_TITLE = "training ε (/255)";

/** Clean and robust test accuracy against the training ε, a line per model family. */
export async function atAccuracyFigures(ctx: Ctx): Promise<Figure[]> {
  const models = atModels(ctx);
  if (models.size === 0) return [];
  const rows = await ctx.study.query(
    `SELECT model, quantity, avg(value) AS value, count(*) AS n FROM results WHERE dataset = ? AND best AND bin IS NULL AND example IS NULL
     AND ((quantity = 'test_accuracy' AND attack = '') OR (quantity = 'robust_accuracy' AND attack <> '')) GROUP BY model, quantity`, [ctx.dataset]);
  const values = rows.filter((r) => models.has(String(r.model))).map((r) => {
    const m = models.get(String(r.model))!;
    return { eps: m.eps255, family: m.group, accuracy: Number(r.value), kind: r.quantity === "robust_accuracy" ? "robust (PGD)" : "clean", seeds: Number(r.n) };
  });
  if (values.length === 0) return [];
  const spec: VlSpec = {
    data: { values }, width: 320, height: 220, mark: { type: "line", point: true },
    encoding: {
      x: { field: "eps", type: "quantitative", title: EPS_TITLE },
      y: { field: "accuracy", type: "quantitative", title: "test accuracy (%)" },
      color: { field: "family", type: "nominal", title: "model" },
      strokeDash: { field: "kind", type: "nominal", title: null },
    },
  };
  return [{
    id: figureId(`at-accuracy${ctx.suffix}`), section: "regularization", title: `Clean and robust accuracy against the training ε${ctx.suffix && ` (${ctx.dataset})`}`,
    caption: "Best checkpoint, mean over seeds. Robust: accuracy under the study's PGD L∞ attack at its largest ε (the tables say which). Paper C: clean accuracy falls as ε grows.",
    spec, svg: await renderSvg(spec),
  }];
}

/** One quantity family's σ_max and flatness per layer, a line per ε, a column per model family. */
async function layerSummaryFigure(ctx: Ctx, family: "sv" | "jsv", what: string, caption: string): Promise<Figure[]> {
  const models = atModels(ctx);
  if (models.size === 0) return [];
  const rows = await ctx.study.query(
    `SELECT model, quantity, avg(value) AS value FROM results WHERE dataset = ? AND best AND (quantity LIKE ? ESCAPE '\\' OR quantity LIKE ? ESCAPE '\\') GROUP BY model, quantity ORDER BY quantity`,
    [ctx.dataset, `${family}\\_max:%`, `${family}\\_entropy:%`]);
  const values = rows.filter((r) => models.has(String(r.model))).map((r) => {
    const m = models.get(String(r.model))!;
    const q = String(r.quantity);
    return { family: m.group, eps: m.eps255, layer: q.slice(q.indexOf(":") + 1), statistic: q.includes("_max:") ? "σ_max" : "flatness H(σ)/log n", value: Number(r.value) };
  });
  if (values.length === 0) return [];
  const layers = [...new Set(values.map((v) => v.layer))];
  const spec: VlSpec = {
    data: { values }, facet: { row: { field: "statistic", type: "nominal", title: null }, column: { field: "family", type: "nominal", title: null } },
    resolve: { scale: { y: "independent", x: "independent" } },
    spec: {
      width: 260, height: 160, mark: { type: "line", point: true },
      encoding: {
        x: { field: "layer", type: "ordinal", title: "layer", sort: layers, axis: { labelAngle: -30 } },
        y: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
        color: { field: "eps", type: "ordinal", title: EPS_TITLE, scale: { scheme: "viridis" } },
      },
    },
  };
  return [{
    id: figureId(`at-${family}${ctx.suffix}`), section: "regularization", title: `${what} against the training ε${ctx.suffix && ` (${ctx.dataset})`}`,
    caption, spec, svg: await renderSvg(spec),
  }];
}

export const atLayerFigures = (ctx: Ctx) => layerSummaryFigure(ctx, "sv", "Layer spectra (weights)",
  "Per layer at the best checkpoint (mean over seeds): the largest singular value of the layer's map and the flatness of its spectrum (entropy of σ_i/Σσ_j over log n; 1 = all equal). " +
  "Conv layers by Sedghi et al.'s circular-convolution singular values, and '(reshaped)' by the SVD of the O × C·k·k kernel. Paper C: most layers' spectra become smaller and flatter with ε.");

export const atJacobianFigures = (ctx: Ctx) => layerSummaryFigure(ctx, "jsv", "Local Jacobian spectra ∂h/∂x",
  "Per layer output h (and the logits) at the best checkpoint: the top-k singular values of ∂h/∂x at each of the first test images, summarised as σ_max and flatness, mean over examples and seeds. " +
  "Paper C: the change of features per change of input becomes smaller and uniform in all directions with ε.");

const DISTRIBUTIONS = [
  { quantity: "output_margin", attack: "test", title: "output margin z_y − max z_j (test)" },
  { quantity: "output_margin", attack: "train", title: "output margin z_y − max z_j (train)" },
  { quantity: "confidence", attack: "test", title: "softmax confidence (test)" },
  { quantity: "confidence", attack: "train", title: "softmax confidence (train)" },
  { quantity: "delta_l2", attack: "ddn-l2", title: "L2 distance to the boundary (DDN, test)" },
];

/** Histograms of margins, confidence and the distance to the boundary, a line per ε, a figure per model family. */
export async function atMarginFigures(ctx: Ctx): Promise<Figure[]> {
  const models = atModels(ctx);
  if (models.size === 0) return [];
  const out: Figure[] = [];
  for (const family of [...new Set([...models.values()].map((m) => m.group!))]) {
    const keys = [...models.values()].filter((m) => m.group === family).map((m) => m.key);
    const rows = await ctx.study.query(
      `SELECT model, attack, quantity, value FROM results WHERE dataset = ? AND best AND example IS NOT NULL AND model IN (${keys.map(() => "?").join(", ")})
       AND (${DISTRIBUTIONS.map(() => "(quantity = ? AND attack = ?)").join(" OR ")}) ORDER BY model, attack, quantity, seed, example`,
      [ctx.dataset, ...keys, ...DISTRIBUTIONS.flatMap((d) => [d.quantity, d.attack])]);
    const titleOf = new Map(DISTRIBUTIONS.map((d) => [`${d.quantity}/${d.attack}`, d.title]));
    const values = rows.map((r) => ({ eps: models.get(String(r.model))!.eps255, panel: titleOf.get(`${r.quantity}/${r.attack}`), value: Number(r.value) }));
    if (values.length === 0) continue;
    // One view per panel (not a facet): each bins its own values' range.
    const spec: VlSpec = {
      data: { values }, columns: 2,
      concat: DISTRIBUTIONS.filter((d) => values.some((v) => v.panel === d.title)).map((d) => ({
        title: d.title, width: 260, height: 150, transform: [{ filter: { field: "panel", equal: d.title } }], mark: { type: "line", interpolate: "step-after" },
        encoding: {
          x: { field: "value", type: "quantitative", bin: { maxbins: 30 }, title: null },
          y: { aggregate: "count", type: "quantitative", title: "examples" },
          color: { field: "eps", type: "ordinal", title: EPS_TITLE, scale: { scheme: "viridis" } },
        },
      })),
    };
    out.push({
      id: figureId(`at-margins-${family}${ctx.suffix}`), section: "regularization", title: `${family}: margins, confidence and distance to the boundary per training ε${ctx.suffix && ` (${ctx.dataset})`}`,
      caption: "Histograms over examples at the best checkpoint (seeds pooled). Paper C: adversarial training moves samples toward the decision boundary in output space (smaller margins, lower confidence), while the input-space distance DDN finds grows (robustness).",
      spec, svg: await renderSvg(spec),
    });
  }
  return out;
}
