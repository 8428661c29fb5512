// The report's figures, each drawn from the study's database or tensors files and never
// recomputed: a figure's Vega-Lite data values (or heatmap source arrays) are the stored numbers,
// averaged over seeds or examples by SQL where the caption says so.
import { findQuantity } from "../analysis/quantities.js";
import type { Row } from "../store/db.js";
import { type Panel, type Scheme, extent, heatmapPng, imagePng, panelsSpec } from "./image.js";
import type { ModelEntry } from "../store/study-folder.js";
import { type Array32, type Study, readTensors } from "./study.js";
import { noiseSizeFigures, perturbationSetFigures, theoryBoundaryFigures, theoryMapFigures, theorySweepFigures } from "./paper-b.js";
import { atAccuracyFigures, atJacobianFigures, atLayerFigures, atMarginFigures } from "./paper-c.js";
import { type VlSpec, renderSvg } from "./vega.js";

export type Section = "spectra" | "pixels" | "energy" | "dynamics" | "evolution" | "breakpoints" | "sweeps" | "layers" | "theory" | "regularization";
export const SECTIONS: Record<Section, string> = {
  spectra: "Mean spectra (best checkpoint)",
  pixels: "Perturbations and linear predictors (pixel space)",
  energy: "Radial and angular energy (best checkpoint)",
  dynamics: "Training dynamics",
  evolution: "Spectrum evolution over checkpoints",
  breakpoints: "ReLU flips and roughness along adversarial and random segments",
  sweeps: "Sweeps (init scale α, kernel size, …)",
  layers: "Singular values of the layer maps (best checkpoint)",
  theory: "Learning from adversarial perturbations (paper B)",
  regularization: "What adversarial training regularizes (paper C)",
};

export interface Frame {
  checkpoint: string;
  label: string;
  spec: VlSpec;
  svg: string;
  panel: Panel;
}

export interface Figure {
  /** Unique, file-name safe: figures/<id>.svg. */
  id: string;
  section: Section;
  title: string;
  caption: string;
  spec: VlSpec;
  svg: string;
  /** Heatmap figures: the arrays shown, in panel order. */
  panels?: Panel[];
  /** Spectrum evolution: one heatmap per checkpoint, stepped by the report's slider. */
  frames?: Frame[];
}

const SPECTRUM_SCHEME: Scheme = "viridis";
/** Frames of one evolution slider at most (evenly spaced, first and last kept): paper A's dynamics save hundreds of checkpoints. */
const MAX_FRAMES = 40;

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_");
const num = (v: Row[string]) => (v === null ? null : Number(v));

/** Axis and legend title of a quantity, with its unit (from the catalogue). */
const title = (name: string) => {
  const q = findQuantity(name);
  return q ? `${q.title}${q.unit ? ` (${q.unit})` : ""}` : name;
};

/** What every figure builder needs: the study, one dataset, the attack its spectra come from. */
export interface Ctx {
  study: Study;
  dataset: string;
  attack: string;
  /** Appended to titles and ids when the study spans several datasets. */
  suffix: string;
  /** Best checkpoint per model (lowest seed), for the tensors-file figures. */
  bests: Map<string, { seed: number; checkpoint: string }>;
  tensors: (path: string) => { arrays: Map<string, Array32>; metadata: Record<string, string> };
}

/** Training progress axis: iterations when the data include early-iteration checkpoints (else they bunch at epoch 0), epochs otherwise. */
function progress(rows: Row[]): { field: "iteration" | "epoch"; title: string } {
  return rows.some((r) => String(r.checkpoint).startsWith("iter-")) ? { field: "iteration", title: "training iteration" } : { field: "epoch", title: "epoch" };
}

async function figure(f: Omit<Figure, "svg">): Promise<Figure> {
  return { ...f, svg: await renderSvg(f.spec) };
}

function modelColor(ctx: Ctx, keys: Iterable<string>) {
  return { field: "model", type: "nominal", title: "model", sort: ctx.study.orderModels(keys).map((k) => ctx.study.label(k)) };
}

function tensorsPath(ctx: Ctx, model: string, seed: number, checkpoint: string): string | undefined {
  return ctx.study.tensorsFiles().find((f) => f.dataset === ctx.dataset && f.model === model && f.seed === seed && f.checkpoint === checkpoint && f.attack === ctx.attack)?.path;
}

/** The [H, W] slice `index` of an array whose last two dimensions are H, W. */
function slice2d(a: Array32, index: number): { data: Float32Array; h: number; w: number } {
  const h = a.shape[a.shape.length - 2]!;
  const w = a.shape[a.shape.length - 1]!;
  return { data: a.data.subarray(index * h * w, (index + 1) * h * w), h, w };
}

/** Heatmap panels of several spectra on one colour domain, so that they compare. */
function spectrumPanels(items: { title: string; a: Array32; index: number }[]): { panels: Panel[]; domain: [number, number] } {
  const slices = items.map((it) => ({ ...slice2d(it.a, it.index), title: it.title }));
  const domain = extent(slices.map((s) => s.data));
  return { panels: slices.map((s) => ({ title: s.title, data: s.data, height: s.h, width: s.w, png: heatmapPng(s.data, s.h, s.w, domain, SPECTRUM_SCHEME) })), domain };
}

async function spectraFigures(ctx: Ctx, models: ModelEntry[] | string[], id: string, section: Section, heading: string): Promise<Figure[]> {
  const keys = models.map((m) => (typeof m === "string" ? m : m.key));
  const out: Figure[] = [];
  const captions = {
    delta: `log of the mean |F| of δ̂ (the 2-D DFT of the luminance of δ) over the successful ${ctx.attack} examples`,
    beta: "log|F| of β̂ (the 2-D DFT of the luminance of β) for class 0",
  };
  for (const [name, key] of [["delta_log_magnitude", "delta"], ["beta_log_magnitude", "beta"]] as const) {
    const items: { title: string; a: Array32; index: number }[] = [];
    for (const k of ctx.study.orderModels(keys)) {
      const b = ctx.bests.get(k);
      const path = b && tensorsPath(ctx, k, b.seed, b.checkpoint);
      const a = path ? ctx.tensors(path).arrays.get(name) : undefined;
      if (a) items.push({ title: ctx.study.label(k), a, index: 0 });
    }
    if (items.length === 0) continue;
    const { panels, domain } = spectrumPanels(items);
    out.push(await figure({
      id: safe(`${id}-${key}${ctx.suffix}`), section, panels,
      title: `${heading}: ${key === "delta" ? "δ̂" : "β̂"}${ctx.suffix ? ` (${ctx.dataset})` : ""}`,
      caption: `${captions[key]}, centred (DC at k = 0), one colour scale for all panels. Best checkpoint, lowest seed.`,
      spec: panelsSpec(panels, "frequency", { domain, scheme: SPECTRUM_SCHEME, title: "log|F|" }),
    }));
  }
  return out;
}

async function pixelFigures(ctx: Ctx): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const k of ctx.study.orderModels(ctx.bests.keys())) {
    const best = ctx.bests.get(k)!;
    const path = tensorsPath(ctx, k, best.seed, best.checkpoint);
    if (!path) continue;
    const { arrays } = ctx.tensors(path);
    const rgb = (a: Array32, i: number, signed: boolean, t: string): Panel => {
      const [c, h, w] = a.shape.slice(1) as [number, number, number];
      const data = a.data.subarray(i * c * h * w, (i + 1) * c * h * w);
      return { title: t, data, height: h, width: w, png: imagePng(data, c, h, w, signed) };
    };
    const x = arrays.get("inputs_examples");
    const d = arrays.get("delta_examples");
    if (d && d.shape[0]! > 0) {
      const n = Math.min(4, d.shape[0]!);
      const panels = [...(x ? Array.from({ length: n }, (_, i) => rgb(x, i, false, `x, example ${i}`)) : []), ...Array.from({ length: n }, (_, i) => rgb(d, i, true, `δ, example ${i}`))];
      out.push(await figure({
        id: safe(`pixels-delta-${k}${ctx.suffix}`), section: "pixels", panels, title: `${ctx.study.label(k)}: clean images and perturbations δ${ctx.suffix && ` (${ctx.dataset})`}`,
        caption: `Successful ${ctx.attack} perturbations at the best checkpoint (highest test accuracy). δ is shown as 0.5 + δ/(2·max|δ|) per figure panel (grey = 0), clean images as stored in [0, 1].`,
        spec: panelsSpec(panels, "pixel", undefined, n),
      }));
    }
    const b = arrays.get("beta");
    if (b) {
      const n = Math.min(10, b.shape[0]!);
      const panels = Array.from({ length: n }, (_, c) => rgb(b, c, true, `β, class ${c}`));
      out.push(await figure({
        id: safe(`pixels-beta-${k}${ctx.suffix}`), section: "pixels", panels, title: `${ctx.study.label(k)}: linear predictor β per class${ctx.suffix && ` (${ctx.dataset})`}`,
        caption: "β_c = ∂z_c/∂x of the linear model at its best checkpoint, shown as 0.5 + β/(2·max|β|) per panel (grey = 0).",
        spec: panelsSpec(panels, "pixel", undefined, 5),
      }));
    }
  }
  return out;
}

const BIN_AXIS: Record<string, { title: string; centre: (b: number) => number }> = {
  // Bin definitions of src/analysis/spectrum.ts: radial bin b holds |k| in [b, b+1); angular bin b holds φ in [10b, 10b+10)°.
  radial: { title: "frequency radius |k| (cycles/image, bin centre)", centre: (b) => b + 0.5 },
  angular: { title: "angle φ (degrees, bin centre)", centre: (b) => 10 * b + 5 },
};

const ENERGY = ["delta_radial", "delta_angular", "beta_radial", "beta_angular"];

async function energyFigures(ctx: Ctx): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const q of ENERGY) {
    const rows = await ctx.study.query(
      `SELECT model, bin, avg(value) AS value, count(*) AS seeds FROM results WHERE dataset = ? AND attack = ? AND best AND quantity = ?
       AND example IS NULL AND bin IS NOT NULL GROUP BY model, bin ORDER BY model, bin`, [ctx.dataset, ctx.attack, q]);
    if (rows.length === 0) continue;
    const [of, kind] = q.split("_") as [string, string];
    const values = rows.map((r) => ({ key: r.model, model: ctx.study.label(String(r.model)), bin: r.bin, x: BIN_AXIS[kind]!.centre(Number(r.bin)), value: r.value }));
    out.push(await figure({
      id: safe(`energy-${q}${ctx.suffix}`), section: "energy",
      title: `${kind === "radial" ? "Radial" : "Angular"} energy of ${of === "delta" ? "δ̂" : "β̂"}${ctx.suffix && ` (${ctx.dataset})`}`,
      caption: `Fraction of the energy E = |F|² per ${kind} bin (each curve sums to 1${kind === "angular" ? ", DC excluded" : ""}), ${of === "delta" ? `mean over successful ${ctx.attack} examples` : "β of class 0"}, best checkpoint, averaged over seeds.`,
      spec: {
        width: 420, height: 260, data: { values },
        mark: { type: "line", point: true },
        encoding: { x: { field: "x", type: "quantitative", title: BIN_AXIS[kind]!.title }, y: { field: "value", type: "quantitative", title: "fraction of energy" }, color: modelColor(ctx, rows.map((r) => String(r.model))) },
      },
    }));
  }
  return out;
}

/** Rows of the models with more than one checkpoint: a single checkpoint has no dynamics to show. */
function withDynamics(rows: Row[]): Row[] {
  const cps = new Map<string, Set<string>>();
  for (const r of rows) (cps.get(String(r.model)) ?? cps.set(String(r.model), new Set()).get(String(r.model))!).add(String(r.checkpoint));
  return rows.filter((r) => (cps.get(String(r.model))?.size ?? 0) > 1);
}

/** What the dynamics figures draw (the SQL below names them). */
const DYNAMICS = ["train_accuracy", "test_accuracy", "success_rate", "delta_l2", "delta_linf", "delta_radial", "delta_angular"];

async function dynamicsFigures(ctx: Ctx): Promise<Figure[]> {
  const out: Figure[] = [];
  const transfer = `${ctx.attack}@final`;
  const acc = withDynamics(await ctx.study.query(
    `SELECT model, checkpoint, epoch, iteration, attack, quantity, avg(value) AS value FROM results
     WHERE dataset = ? AND example IS NULL AND bin IS NULL
       AND ((attack = '' AND quantity IN ('train_accuracy', 'test_accuracy')) OR (attack IN (?, ?) AND quantity = 'success_rate'))
     GROUP BY model, checkpoint, epoch, iteration, attack, quantity ORDER BY model, iteration, epoch`, [ctx.dataset, ctx.attack, transfer]));
  if (acc.length) {
    const attacked = acc.some((r) => r.quantity === "success_rate");
    const p = progress(acc);
    const series = (r: Row) => (r.quantity === "success_rate" ? (r.attack === transfer ? `transfer: final checkpoint's δ (${transfer})` : `success rate (${r.attack})`) : title(String(r.quantity)));
    const values = acc.map((r) => ({ key: r.model, model: ctx.study.label(String(r.model)), checkpoint: r.checkpoint, t: r[p.field], attack: r.attack, quantity: r.quantity, series: series(r), value: r.value }));
    out.push(await figure({
      id: safe(`dynamics-success${ctx.suffix}`), section: "dynamics", title: `${attacked ? "Attack success rate vs accuracy" : "Accuracy"} over training${ctx.suffix && ` (${ctx.dataset})`}`,
      caption: attacked ? `Success rate of ${ctx.attack} at each checkpoint (clean-correct and fooled, over all attacked examples), train and test accuracy, and the transfer of the final checkpoint's perturbations to each checkpoint (${transfer}). Averaged over seeds.` : "Train and test accuracy at each checkpoint, averaged over seeds.",
      spec: {
        data: { values }, columns: 3,
        facet: { field: "model", type: "nominal", title: null, sort: ctx.study.orderModels(acc.map((r) => String(r.model))).map((k) => ctx.study.label(k)) },
        spec: { width: 300, height: 200, mark: { type: "line", point: true },
          encoding: { x: { field: "t", type: "quantitative", title: p.title }, y: { field: "value", type: "quantitative", title: "accuracy, success rate (%)" }, color: { field: "series", type: "nominal", title: null } } },
      },
    }));
  }
  // ‖δ‖ over training from the minimal-norm attacks only, with their success rate (a failed search has no δ).
  const minimal = [...ctx.study.minimalNormAttacks()].flatMap(([key, norm]) => (norm === "l2" || norm === "linf" ? [[key, `delta_${norm}`]] : []));
  const norms = minimal.length === 0 ? [] : withDynamics(await ctx.study.query(
    `SELECT model, checkpoint, epoch, iteration, attack, quantity, avg(value) AS mean, stddev_samp(value) AS std, count(*) AS n FROM results
     WHERE dataset = ? AND (${minimal.map(() => "(attack = ? AND (quantity = ? OR (quantity = 'success_rate' AND example IS NULL)))").join(" OR ")})
       AND bin IS NULL
     GROUP BY model, checkpoint, epoch, iteration, attack, quantity ORDER BY model, iteration, epoch`, [ctx.dataset, ...minimal.flat()]));
  if (norms.length) {
    const p = progress(norms);
    const panel = (r: Row) => (r.quantity === "success_rate" ? "success rate (%)" : `minimal ${title(String(r.quantity))}`);
    const values = norms.map((r) => ({ key: r.model, model: ctx.study.label(String(r.model)), checkpoint: r.checkpoint, t: r[p.field], attack: r.attack, quantity: r.quantity,
      norm: panel(r), series: `${ctx.study.label(String(r.model))} (${r.attack})`,
      mean: r.mean, std: r.std, n: r.n, lo: r.std === null ? null : Number(r.mean) - Number(r.std), hi: r.std === null ? null : Number(r.mean) + Number(r.std) }));
    const color = { field: "series", type: "nominal", title: null };
    out.push(await figure({
      id: safe(`dynamics-norms${ctx.suffix}`), section: "dynamics", title: `Minimal ‖δ‖₂ and ‖δ‖∞ over training${ctx.suffix && ` (${ctx.dataset})`}`,
      caption: `The smallest perturbation the minimal-norm attacks (${minimal.map(([k]) => k).join(", ")}) find at each checkpoint: mean (line) ± one standard deviation (band) over their successful examples, all seeds pooled, and their success rate. ` +
        "A fixed-ε attack's ‖δ‖ is set by ε and is not drawn.",
      spec: {
        data: { values }, facet: { column: { field: "norm", type: "nominal", title: null } }, resolve: { scale: { y: "independent" } },
        spec: { width: 260, height: 220, layer: [
          { mark: { type: "area", opacity: 0.2 }, encoding: { x: { field: "t", type: "quantitative", title: p.title }, y: { field: "lo", type: "quantitative", title: null }, y2: { field: "hi" }, color } },
          { mark: { type: "line", point: true }, encoding: { x: { field: "t", type: "quantitative" }, y: { field: "mean", type: "quantitative" }, color } },
        ] },
      },
    }));
  }
  const curves = withDynamics(await ctx.study.query(
    `SELECT model, checkpoint, epoch, iteration, quantity, bin, avg(value) AS value FROM results
     WHERE dataset = ? AND attack = ? AND quantity IN ('delta_radial', 'delta_angular') AND example IS NULL AND bin IS NOT NULL
     GROUP BY model, checkpoint, epoch, iteration, quantity, bin ORDER BY model, iteration, epoch, quantity, bin`, [ctx.dataset, ctx.attack]));
  for (const k of ctx.study.orderModels(curves.map((r) => String(r.model)))) {
    const mine = curves.filter((r) => r.model === k);
    const p = progress(mine);
    const panels = ["radial", "angular"].map((kind) => {
      const values = mine.filter((r) => r.quantity === `delta_${kind}`).map((r) => ({ key: k, checkpoint: r.checkpoint, t: r[p.field], quantity: r.quantity, bin: r.bin, x: BIN_AXIS[kind]!.centre(Number(r.bin)), value: r.value }));
      return { title: `${kind} energy`, width: 300, height: 220, data: { values }, mark: { type: "line" },
        encoding: { x: { field: "x", type: "quantitative", title: BIN_AXIS[kind]!.title }, y: { field: "value", type: "quantitative", title: "fraction of energy" },
          color: { field: "t", type: "quantitative", title: p.title, scale: { scheme: "viridis" } }, detail: { field: "checkpoint", type: "nominal" } } };
    }).filter((s) => s.data.values.length);
    out.push(await figure({
      id: safe(`dynamics-energy-${k}${ctx.suffix}`), section: "dynamics", title: `${ctx.study.label(k)}: radial and angular energy of δ̂ over training${ctx.suffix && ` (${ctx.dataset})`}`,
      caption: `One curve per checkpoint (colour: training progress), energy fractions of the mean ${ctx.attack} δ̂ at that checkpoint, averaged over seeds.`,
      spec: { hconcat: panels, resolve: { scale: { color: "shared" } } },
    }));
  }
  return out;
}

async function evolutionFigures(ctx: Ctx): Promise<Figure[]> {
  const out: Figure[] = [];
  const files = ctx.study.tensorsFiles().filter((f) => f.dataset === ctx.dataset && f.attack === ctx.attack);
  for (const k of ctx.study.orderModels(new Set(files.map((f) => f.model)))) {
    const seed = Math.min(...files.filter((f) => f.model === k).map((f) => f.seed));
    const cps = await ctx.study.query("SELECT DISTINCT checkpoint, epoch, iteration FROM results WHERE dataset = ? AND model = ? AND seed = ? ORDER BY iteration, epoch", [ctx.dataset, k, seed]);
    let steps = cps.flatMap((c) => {
      const path = files.find((f) => f.model === k && f.seed === seed && f.checkpoint === c.checkpoint)?.path;
      const a = path && ctx.tensors(path).arrays.get("delta_log_magnitude");
      return a ? [{ checkpoint: String(c.checkpoint), epoch: num(c.epoch), iteration: num(c.iteration), a }] : [];
    });
    if (steps.length < 2) continue;
    if (steps.length > MAX_FRAMES) steps = Array.from({ length: MAX_FRAMES }, (_, i) => steps[Math.round((i * (steps.length - 1)) / (MAX_FRAMES - 1))]!);
    const { panels, domain } = spectrumPanels(steps.map((s) => ({ title: `epoch ${s.epoch}, iteration ${s.iteration}`, a: s.a, index: 0 })));
    const frames = await Promise.all(panels.map(async (panel, i) => {
      const spec = panelsSpec([panel], "frequency", { domain, scheme: SPECTRUM_SCHEME, title: "log|F|" });
      return { checkpoint: steps[i]!.checkpoint, label: `${steps[i]!.checkpoint} (epoch ${steps[i]!.epoch}, iteration ${steps[i]!.iteration})`, spec, svg: await renderSvg(spec), panel };
    }));
    const last = frames[frames.length - 1]!;
    out.push({
      id: safe(`evolution-${k}${ctx.suffix}`), section: "evolution", title: `${ctx.study.label(k)}: mean log-magnitude spectrum of δ over training${ctx.suffix && ` (${ctx.dataset})`}`,
      caption: `log of the mean |F| of the successful ${ctx.attack} perturbations at each checkpoint (seed ${seed}), one colour scale for all checkpoints so that frames compare.${cps.length > MAX_FRAMES ? ` ${frames.length} of ${cps.length} checkpoints, evenly spaced.` : ""} Move the slider to step through checkpoints.`,
      spec: last.spec, svg: last.svg, panels: frames.map((f) => f.panel), frames,
    });
  }
  return out;
}

const OBSERVABLES = [
  { key: "flips_ever", title: "fraction of ReLUs that flip at least once along the segment" },
  { key: "flips_total", title: "ReLU flips per ReLU and step along the segment" },
  { key: "roughness_true", title: "roughness of the true-class logit (mean 1 − cos of its gradient to the start)" },
  { key: "roughness_adv", title: "roughness of the adversarial-class logit (mean 1 − cos of its gradient to the start)" },
];

async function breakpointFigures(ctx: Ctx): Promise<Figure[]> {
  const out: Figure[] = [];
  const rows = await ctx.study.query(
    `SELECT model, checkpoint, epoch, iteration, attack, quantity, seed, example, value FROM results
     WHERE dataset = ? AND example IS NOT NULL AND (quantity LIKE 'flips\\_%' ESCAPE '\\' OR quantity LIKE 'roughness\\_%' ESCAPE '\\')
     ORDER BY model, iteration, epoch, quantity, seed, example`, [ctx.dataset]);
  for (const k of ctx.study.orderModels(rows.map((r) => String(r.model)))) {
    for (const o of OBSERVABLES) {
      const mine = rows.filter((r) => r.model === k && (r.quantity === `${o.key}_adv` || r.quantity === `${o.key}_random`));
      if (mine.length === 0) continue;
      const p = progress(mine);
      const seeds = new Set(mine.map((r) => r.seed)).size;
      const examples = new Set(mine.map((r) => `${r.seed}/${r.example}`)).size;
      const attacks = [...new Set(mine.map((r) => String(r.attack)))].join(", ");
      const values = mine.map((r) => ({ key: k, checkpoint: r.checkpoint, t: r[p.field], quantity: r.quantity, direction: String(r.quantity).endsWith("_adv") ? "adversarial δ" : "random r, ‖r‖ = ‖δ‖", value: r.value }));
      out.push(await figure({
        id: safe(`breakpoints-${k}-${o.key}${ctx.suffix}`), section: "breakpoints", title: `${ctx.study.label(k)}: ${o.title}${ctx.suffix && ` (${ctx.dataset})`}`,
        caption: `Histograms over examples at each ${p.field}: the segment x → x + δ (the final checkpoint's ${attacks} perturbation) against x → x + r (Gaussian direction of the same L2 norm), evaluated on each checkpoint; ` +
          `${examples} successfully attacked examples${seeds > 1 ? ` over ${seeds} seeds` : ""} (the study's tables say which split).`,
        spec: {
          data: { values }, facet: { column: { field: "t", type: "ordinal", title: p.title } },
          spec: { width: 180, height: 160, mark: { type: "bar", opacity: 0.55 },
            encoding: { x: { field: "value", type: "quantitative", bin: { maxbins: 20 }, title: o.key.startsWith("flips") ? "fraction" : "roughness" },
              y: { aggregate: "count", type: "quantitative", title: "examples", stack: null }, color: { field: "direction", type: "nominal", title: null } } },
        },
      }));
    }
  }
  return out;
}

const SWEEP_QUANTITIES = ["delta_centroid", "delta_hf8", "delta_hat_sparsity", "delta_hat_l1"];

/** The group's varying options: a numeric one becomes the x axis, the rest name the series. */
function sweepAxes(models: ModelEntry[]): { x?: string; series: (m: ModelEntry) => string } {
  const keys = [...new Set(models.flatMap((m) => Object.keys(m.options ?? {})))];
  const varying = keys.filter((k) => new Set(models.map((m) => JSON.stringify(m.options?.[k]))).size > 1);
  const x = varying.find((k) => models.every((m) => typeof m.options?.[k] === "number"));
  const named = models.some((m) => m.name !== models[0]!.name);
  const series = (m: ModelEntry) => [named ? m.name : "", ...varying.filter((k) => k !== x).map((k) => `${k}=${JSON.stringify(m.options?.[k])}`)].filter(Boolean).join(" ") || "all";
  return { x, series };
}

async function sweepFigures(ctx: Ctx): Promise<Figure[]> {
  const out: Figure[] = [];
  const groups = new Map<string, ModelEntry[]>();
  for (const m of ctx.study.models) if (m.group) (groups.get(m.group) ?? groups.set(m.group, []).get(m.group)!).push(m);
  for (const [group, models] of groups) {
    if (models.length < 2) continue;
    for (const f of await spectraFigures(ctx, models, `sweep-${group}-spectra`, "sweeps", `Group ${group}`)) out.push(f);
    const rows = await ctx.study.query(
      `SELECT model, quantity, avg(value) AS mean, stddev_samp(value) AS std, count(*) AS n FROM results
       WHERE dataset = ? AND attack = ? AND best AND example IS NOT NULL AND quantity IN (${SWEEP_QUANTITIES.map(() => "?").join(", ")})
         AND model IN (${models.map(() => "?").join(", ")}) GROUP BY model, quantity ORDER BY model, quantity`,
      [ctx.dataset, ctx.attack, ...SWEEP_QUANTITIES, ...models.map((m) => m.key)]);
    if (rows.length === 0) continue;
    const axes = sweepAxes(models);
    const byKey = new Map(models.map((m) => [m.key, m]));
    const values = rows.map((r) => {
      const m = byKey.get(String(r.model))!;
      return { key: m.key, model: m.label, x: axes.x ? (m.options[axes.x] as number) : m.label, series: axes.series(m), quantity: r.quantity, statistic: title(String(r.quantity)),
        mean: r.mean, std: r.std, n: r.n, lo: r.std === null ? null : Number(r.mean) - Number(r.std), hi: r.std === null ? null : Number(r.mean) + Number(r.std) };
    });
    const xs = axes.x ? values.map((v) => v.x as number) : [];
    const log = xs.length > 0 && Math.min(...xs) > 0 && Math.max(...xs) / Math.min(...xs) >= 10;
    const x = axes.x
      ? { field: "x", type: "quantitative", title: axes.x, scale: log ? { type: "log" } : { zero: false } }
      : { field: "x", type: "nominal", title: "model", sort: models.map((m) => m.label) };
    out.push(await figure({
      id: safe(`sweep-${group}-statistics${ctx.suffix}`), section: "sweeps", title: `Group ${group}: spectral statistics of δ̂ vs ${axes.x ?? "model"}${ctx.suffix && ` (${ctx.dataset})`}`,
      caption: `Mean ± one standard deviation over the successful ${ctx.attack} examples at the best checkpoint (all seeds pooled).`,
      spec: {
        data: { values }, facet: { column: { field: "statistic", type: "nominal", title: null } }, resolve: { scale: { y: "independent" } },
        spec: { width: 220, height: 200, layer: [
          { mark: { type: "rule" }, encoding: { x, y: { field: "lo", type: "quantitative", title: "value" }, y2: { field: "hi" }, color: { field: "series", type: "nominal", title: null } } },
          { mark: { type: "line", point: true }, encoding: { x, y: { field: "mean", type: "quantitative" }, color: { field: "series", type: "nominal", title: null } } },
        ] },
      },
    }));
  }
  return out;
}

/** Singular values of each layer's linear map by rank (dense: SVD; conv: Sedghi et al.), one panel per layer. */
async function layerFigures(ctx: Ctx): Promise<Figure[]> {
  const rows = await ctx.study.query(
    `SELECT model, quantity, bin, avg(value) AS value FROM results WHERE dataset = ? AND best AND quantity LIKE 'sv:%'
     GROUP BY model, quantity, bin ORDER BY model, quantity, bin`, [ctx.dataset]);
  if (rows.length === 0) return [];
  const values = rows.map((r) => ({ model: ctx.study.label(String(r.model)), layer: String(r.quantity).slice(3), rank: Number(r.bin) + 1, value: Number(r.value) }));
  return [await figure({
    id: safe(`layers-singular-values${ctx.suffix}`), section: "layers",
    title: `Singular values of the layer maps${ctx.suffix ? ` (${ctx.dataset})` : ""}`,
    caption: "Singular values in descending order of each layer's map at the best checkpoint (mean over seeds): dense layers by SVD of the weight, convolutions as circular convolutions on their input size (Sedghi et al.). Log scales.",
    spec: {
      data: { values }, facet: { column: { field: "layer", type: "nominal", title: "parameter" } }, resolve: { scale: { x: "independent", y: "independent" } },
      spec: { width: 240, height: 200, mark: { type: "line" }, encoding: {
        x: { field: "rank", type: "quantitative", title: "rank", scale: { type: "log" } },
        y: { field: "value", type: "quantitative", title: "singular value", scale: { type: "log" } },
        color: modelColor(ctx, rows.map((r) => String(r.model))),
      } },
    },
  })];
}

/** A kind of figure: what it draws (result quantities, by catalogue name; a family by its prefix) and how. */
export interface FigureDef {
  readonly name: string;
  readonly quantities: readonly string[];
  build(ctx: Ctx): Promise<Figure[]>;
}

/** The report's figures, registered once, in report order; each draws only what the study holds. A new figure is added here. */
export const FIGURES: readonly FigureDef[] = [
  { name: "spectra", quantities: [], build: (ctx) => spectraFigures(ctx, [...ctx.bests.keys()], "spectra", "spectra", "Mean log-magnitude spectra, all models") },
  { name: "pixels", quantities: [], build: pixelFigures },
  { name: "energy", quantities: ENERGY, build: energyFigures },
  { name: "dynamics", quantities: DYNAMICS, build: dynamicsFigures },
  { name: "evolution", quantities: [], build: evolutionFigures },
  { name: "breakpoints", quantities: OBSERVABLES.flatMap((o) => [`${o.key}_adv`, `${o.key}_random`]), build: breakpointFigures },
  { name: "sweeps", quantities: SWEEP_QUANTITIES, build: sweepFigures },
  { name: "layers", quantities: ["sv:"], build: layerFigures },
  { name: "theory-sweep", quantities: ["acc_g", "acc_h"], build: theorySweepFigures },
  { name: "theory-maps", quantities: ["acc_f", "acc_g", "acc_h"], build: theoryMapFigures },
  { name: "theory-boundaries", quantities: ["acc_g"], build: theoryBoundaryFigures },
  { name: "perturbation-sets", quantities: ["fool_rate"], build: perturbationSetFigures },
  { name: "noise-size", quantities: ["test_accuracy"], build: noiseSizeFigures },
  { name: "at-accuracy", quantities: ["test_accuracy", "robust_accuracy"], build: atAccuracyFigures },
  { name: "at-layers", quantities: ["sv_max:", "sv_entropy:"], build: atLayerFigures },
  { name: "at-jacobian", quantities: ["jsv_max:", "jsv_entropy:"], build: atJacobianFigures },
  { name: "at-margins", quantities: ["output_margin", "confidence", "delta_l2"], build: atMarginFigures },
];

/** Every figure whose data the study holds, in report order. */
export async function buildFigures(study: Study): Promise<Figure[]> {
  const datasets = (await study.query("SELECT DISTINCT dataset FROM results ORDER BY dataset")).map((r) => String(r.dataset));
  const cache = new Map<string, ReturnType<typeof readTensors>>();
  const tensors = (path: string) => cache.get(path) ?? cache.set(path, readTensors(path)).get(path)!;
  const figures: Figure[] = [];
  for (const dataset of datasets) {
    const attacks = (await study.query("SELECT DISTINCT attack FROM results WHERE dataset = ? AND attack <> '' AND attack NOT LIKE '%@%' ORDER BY attack", [dataset])).map((r) => String(r.attack));
    // Spectra come from one attack: paper A's L∞ PGD when the study ran it.
    // '' when nothing was attacked (a training-only study): only the accuracy curves have data then.
    const attack = attacks.includes("pgd-linf") ? "pgd-linf" : attacks[0] ?? "";
    const bests = new Map<string, { seed: number; checkpoint: string }>();
    for (const r of await study.query("SELECT DISTINCT model, seed, checkpoint FROM results WHERE dataset = ? AND best ORDER BY model, seed", [dataset])) {
      if (!bests.has(String(r.model))) bests.set(String(r.model), { seed: Number(r.seed), checkpoint: String(r.checkpoint) });
    }
    const ctx: Ctx = { study, dataset, attack, suffix: datasets.length > 1 ? `-${dataset}` : "", bests, tensors };
    for (const f of FIGURES) figures.push(...await f.build(ctx));
  }
  return figures;
}
