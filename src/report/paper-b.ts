// Paper B's figures. From the perturbation-theory jobs' rows and maps files: the accuracy of g
// ("Adversarial") and h ("Noise") on D against the swept axis, drawn as the paper does (y from 0.4
// to 1.05), and the decision maps of f, g and h on the plane of u₁, u₂ with D projected onto it.
// From perturbation-learning's derived sets: example images x, δ and x + δ with their labels.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Figure } from "./figures.js";
import type { Ctx } from "./figures.js";
import { type Panel, dataUri, heatmapPng, imagePng, panelsSpec } from "./image.js";
import { type VlSpec, renderSvg } from "./vega.js";

const NORM_LABEL: Record<string, string> = { l0: "L0", l2: "L2", linf: "L∞" };
const AXES = ["d", "n", "nAdv", "eps"] as const;
const AXIS_TITLE: Record<(typeof AXES)[number], string> = { d: "dimension d", n: "natural samples N", nAdv: "noise samples N^adv", eps: "ε (L0: share of coordinates)" };
const NETWORKS = [["f", "f (standard)"], ["g", "g (adversarial noise)"], ["h", "h (raw noise)"]] as const;
const PANEL_PX = 220;

/** Accuracy on D against the swept axis, one panel per norm, one line per network and noise. */
export async function theorySweepFigures(ctx: Ctx): Promise<Figure[]> {
  const models = ctx.study.models.filter((m) => m.name === "onehidden" && m.group);
  const axis = AXES.find((k) => new Set(models.map((m) => m.options[k])).size > 1);
  if (!axis) return [];
  const rows = await ctx.study.query(
    `SELECT model, attack, quantity, avg(value) AS value, count(*) AS n FROM results WHERE dataset = ? AND quantity IN ('acc_g', 'acc_h') GROUP BY model, attack, quantity ORDER BY model, attack`,
    [ctx.dataset]);
  const byKey = new Map(models.map((m) => [m.key, m]));
  const values = rows.filter((r) => byKey.has(String(r.model))).map((r) => {
    const m = byKey.get(String(r.model))!;
    return { x: Number(m.options[axis]), norm: NORM_LABEL[String(r.attack)] ?? String(r.attack), noise: String(m.options.noise),
      network: r.quantity === "acc_g" ? "Adversarial (g)" : "Noise (h)", accuracy: Number(r.value), seeds: Number(r.n) };
  });
  if (values.length === 0) return [];
  const xs = values.map((v) => v.x);
  const log = Math.min(...xs) > 0 && Math.max(...xs) / Math.min(...xs) >= 20;
  const spec: VlSpec = {
    data: { values }, facet: { column: { field: "norm", type: "nominal", title: null, sort: Object.values(NORM_LABEL) } }, resolve: { scale: { x: "independent" } },
    spec: {
      width: 220, height: 200, mark: { type: "line", point: true },
      encoding: {
        x: { field: "x", type: "quantitative", title: AXIS_TITLE[axis], scale: log ? { type: "log" } : { zero: false } },
        y: { field: "accuracy", type: "quantitative", title: "accuracy on D", scale: { domain: [0.4, 1.05], clamp: true } },
        color: { field: "network", type: "nominal", title: null },
        strokeDash: { field: "noise", type: "nominal", title: "noise" },
      },
    },
  };
  return [{
    id: `theory-sweep-${axis}`, section: "theory", title: `Accuracy on the natural data against ${AXIS_TITLE[axis]}`,
    caption: "Accuracy on D of g (trained only on noise perturbed toward random targets against f) and of h (the same noise and labels, unperturbed), mean over seeds; paper B's Fig. 2 and appendix graphs draw the same axes.",
    spec, svg: await renderSvg(spec),
  }];
}

/** Per cell (lowest seed): the sign maps of f, g and h on s·u₁ + t·u₂, with D's samples projected and coloured by label. */
export async function theoryMapFigures(ctx: Ctx): Promise<Figure[]> {
  const out: Figure[] = [];
  const seen = new Set<string>();
  for (const job of ctx.study.info.spec.jobs) {
    if (job.kind !== "perturbation-theory") continue;
    const model = String(job.tags.model);
    const norm = String((job.inputs as { norm: string }).norm);
    const path = join(ctx.study.dir, job.id, "maps.safetensors");
    if (seen.has(`${model}/${norm}`) || !existsSync(path)) continue;
    seen.add(`${model}/${norm}`);
    const { arrays } = ctx.tensors(path);
    const axis = arrays.get("axis")!.data;
    const side = axis.length;
    const [lo, hi] = [axis[0]!, axis[side - 1]!];
    const accuracy = new Map((await ctx.study.query(
      "SELECT quantity, avg(value) AS value FROM results WHERE dataset = ? AND model = ? AND attack = ? AND quantity IN ('acc_f', 'acc_g', 'acc_h') GROUP BY quantity",
      [ctx.dataset, model, norm])).map((r) => [String(r.quantity), Number(r.value)]));
    const projection = arrays.get("projection")!.data;
    const labels = arrays.get("labels")!.data;
    const points = Array.from(labels, (l, i) => ({ s: projection[2 * i]!, t: projection[2 * i + 1]!, label: l > 0 ? "+1" : "−1" }))
      .filter((p) => p.s >= lo && p.s <= hi && p.t >= lo && p.t <= hi);
    const panels = NETWORKS.map(([net, title]) => {
      const map = arrays.get(`map_${net}`)!.data;
      // Row 0 of the map is t = lo; the image's top row is t = hi.
      const flipped = new Float32Array(map.length);
      for (let r = 0; r < side; r++) flipped.set(map.subarray(r * side, (r + 1) * side), (side - 1 - r) * side);
      const png = heatmapPng(flipped, side, side, [-2.5, 2.5], "viridis");
      const acc = accuracy.get(`acc_${net}`);
      const scale = { domain: [lo, hi], nice: false, zero: false };
      return {
        title: `${title}${acc === undefined ? "" : `: acc(D) = ${acc.toFixed(3)}`}`, width: PANEL_PX, height: PANEL_PX,
        layer: [
          { data: { values: [{ s: lo, t: hi, url: dataUri("image/png", png) }] }, mark: { type: "image", width: PANEL_PX, height: PANEL_PX, align: "left", baseline: "top", aspect: false, aria: false },
            encoding: { x: { field: "s", type: "quantitative", scale, title: "along u₁" }, y: { field: "t", type: "quantitative", scale, title: "along u₂" }, url: { field: "url", type: "nominal" } } },
          { data: { values: points }, mark: { type: "point", filled: true, size: 18, aria: false },
            encoding: { x: { field: "s", type: "quantitative", scale }, y: { field: "t", type: "quantitative", scale }, color: { field: "label", type: "nominal", title: "label of x_n", scale: { domain: ["+1", "−1"], range: ["#d62728", "#ffffff"] } } } },
        ],
      } satisfies VlSpec;
    });
    const spec: VlSpec = { hconcat: panels };
    const label = ctx.study.label(model);
    out.push({
      id: `theory-map-${model}-${norm}`.replace(/[^A-Za-z0-9._-]+/g, "_"), section: "theory",
      title: `Decision maps, ${label}, ${NORM_LABEL[norm] ?? norm} perturbations`,
      caption: "sign of f, g and h at s·u₁ + t·u₂ (u₁, u₂: the normalised mean weight rows of f's units with output weight +1/√m and −1/√m; green: positive, blue: negative), " +
        "with D's samples whose projection falls inside the window (red: label +1, white: −1). g's map approaching f's while h's does not is paper B's Fig. 3.",
      spec, svg: await renderSvg(spec),
    });
  }
  return out;
}


/** The grid points where a sign map changes sign toward its right or upper neighbour: its decision boundary. */
function boundary(map: Float32Array, axis: Float32Array): { s: number; t: number }[] {
  const side = axis.length;
  const out: { s: number; t: number }[] = [];
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const v = map[r * side + c]! > 0;
      if ((c + 1 < side && (map[r * side + c + 1]! > 0) !== v) || (r + 1 < side && (map[(r + 1) * side + c]! > 0) !== v)) out.push({ s: axis[c]!, t: axis[r]! });
    }
  }
  return out;
}

/** With `--sweep nadv`: per noise and norm (lowest seed), g's decision boundary for each N^adv on one map, with f's. */
export async function theoryBoundaryFigures(ctx: Ctx): Promise<Figure[]> {
  const sizes = new Map(ctx.study.models.filter((m) => m.name === "onehidden" && m.group).map((m) => [m.key, Number(m.options.nAdv)]));
  if (new Set(sizes.values()).size < 2) return [];
  const cells = new Map<string, { nAdv: number; path: string }[]>();
  for (const job of ctx.study.info.spec.jobs) {
    const nAdv = sizes.get(String(job.tags.model));
    const path = join(ctx.study.dir, job.id, "maps.safetensors");
    if (job.kind !== "perturbation-theory" || nAdv === undefined || !existsSync(path)) continue;
    const cell = `${ctx.study.models.find((m) => m.key === job.tags.model)!.group}/${(job.inputs as { norm: string }).norm}`;
    const list = cells.get(cell) ?? cells.set(cell, []).get(cell)!;
    if (!list.some((x) => x.nAdv === nAdv)) list.push({ nAdv, path });
  }
  const out: Figure[] = [];
  for (const [cell, maps] of cells) {
    const [noise, norm] = cell.split("/") as [string, string];
    maps.sort((a, b) => a.nAdv - b.nAdv);
    const first = ctx.tensors(maps[0]!.path).arrays;
    const axis = first.get("axis")!.data;
    // f is trained on the same D with the same seed in every cell of the sweep: one f boundary.
    // f last: drawn on top.
    const values = [
      ...maps.flatMap((m) => boundary(ctx.tensors(m.path).arrays.get("map_g")!.data, axis).map((p) => ({ ...p, network: `g, N^adv = ${m.nAdv}` }))),
      ...boundary(first.get("map_f")!.data, axis).map((p) => ({ ...p, network: "f" })),
    ];
    const scale = { domain: [axis[0]!, axis.at(-1)!], nice: false, zero: false };
    const spec: VlSpec = {
      data: { values }, width: 320, height: 320, mark: { type: "square", size: 6, opacity: 0.8 },
      encoding: {
        x: { field: "s", type: "quantitative", scale, title: "along u₁" }, y: { field: "t", type: "quantitative", scale, title: "along u₂" },
        color: { field: "network", type: "nominal", title: "boundary of", sort: ["f", ...maps.map((m) => `g, N^adv = ${m.nAdv}`)],
          scale: { range: ["#000000", "#440154", "#3b528b", "#21918c", "#5ec962", "#fde725", "#f89540", "#cc4778", "#7e03a8", "#0d0887", "#e16462"] } },
      },
    };
    out.push({
      id: `theory-boundaries-${noise}-${norm}`.replace(/[^A-Za-z0-9._-]+/g, "_"), section: "theory",
      title: `g's decision boundary for growing N^adv, ${noise} noise, ${NORM_LABEL[norm] ?? norm} perturbations`,
      caption: "The points of the (u₁, u₂) grid where the sign of f (black) or of g trained on N^adv perturbed noise samples changes (lowest seed); paper B's Fig. 3 shows g's boundary approaching f's as N^adv grows.",
      spec, svg: await renderSvg(spec),
    });
  }
  return out;
}

/** Per derived set (lowest seed): its preview's examples as x, δ and x + δ, with the source label and the new one. */
export async function perturbationSetFigures(ctx: Ctx): Promise<Figure[]> {
  const out: Figure[] = [];
  const seen = new Set<string>();
  for (const job of ctx.study.info.spec.jobs) {
    const key = `${job.tags.dataset}/${job.tags.model}`;
    const file = join(ctx.study.dir, job.id, "preview.safetensors");
    if (job.kind !== "derive-dataset" || job.tags.dataset !== ctx.dataset || seen.has(key) || !existsSync(file)) continue;
    seen.add(key);
    const { arrays } = ctx.tensors(file);
    const adv = arrays.get("images")!;
    const delta = arrays.get("delta")!.data;
    const [source, next] = [arrays.get("source_labels")!.data, arrays.get("labels")!.data];
    const [k, c, h, w] = adv.shape as [number, number, number, number];
    const size = c * h * w;
    const panel = (title: string, data: Float32Array, signed: boolean): Panel => ({ title, data, height: h, width: w, png: imagePng(data, c, h, w, signed) });
    // Rows: x, δ, x + δ; a column per example.
    const rows = [
      (i: number) => panel(`x, label ${source[i]}`, adv.data.slice(i * size, (i + 1) * size).map((v, j) => v - delta[i * size + j]!), false),
      (i: number) => panel("δ", delta.slice(i * size, (i + 1) * size), true),
      (i: number) => panel(`x + δ, new label ${next[i]}`, adv.data.slice(i * size, (i + 1) * size), false),
    ];
    const panels: Panel[] = [];
    for (const make of rows) for (let i = 0; i < k; i++) panels.push(make(i));
    const spec = panelsSpec(panels, "pixel", undefined, k);
    out.push({
      id: `perturbation-set-${key}`.replace(/[^A-Za-z0-9._-]+/g, "_"), section: "theory", panels,
      title: `Perturbation set ${job.tags.model} (${ctx.dataset})`,
      caption: "The first examples of the set: the source image x (a training image, or uniform noise) with its label, δ (grey = 0, scaled per panel), " +
        "and the stored x + δ with the label the set gives it (the attack's target). x is x + δ − δ as stored.",
      spec, svg: await renderSvg(spec),
    });
  }
  return out;
}

/** perturbation-learning's noise-size sweep: clean test accuracy against the number of perturbed noise images, a line per norm. */
export async function noiseSizeFigures(ctx: Ctx): Promise<Figure[]> {
  const sizes = new Map(ctx.study.models.filter((m) => m.group === "noise-size").map((m) => [m.key, Number(m.options.noiseImages)]));
  const [base, norm] = [ctx.dataset.slice(0, ctx.dataset.lastIndexOf("-")), ctx.dataset.slice(ctx.dataset.lastIndexOf("-") + 1)];
  // One figure per dataset: drawn when its first norm's rows come up.
  if (sizes.size === 0 || norm !== "l0") return [];
  const rows = await ctx.study.query(
    `SELECT dataset, model, avg(value) AS value FROM results WHERE best AND quantity = 'test_accuracy' AND dataset LIKE ? GROUP BY dataset, model`, [`${base}-%`]);
  const values = rows.filter((r) => sizes.has(String(r.model))).map((r) => ({
    images: sizes.get(String(r.model))!, norm: NORM_LABEL[String(r.dataset).slice(base.length + 1)] ?? String(r.dataset), accuracy: Number(r.value) / 100,
  }));
  if (values.length === 0) return [];
  const spec: VlSpec = {
    data: { values }, width: 320, height: 220, mark: { type: "line", point: true },
    encoding: {
      x: { field: "images", type: "quantitative", title: "noise images", scale: { zero: false } },
      y: { field: "accuracy", type: "quantitative", title: "clean test accuracy" },
      color: { field: "norm", type: "nominal", title: null, sort: Object.values(NORM_LABEL) },
    },
  };
  return [{
    id: `noise-size-${base}`.replace(/[^A-Za-z0-9._-]+/g, "_"), section: "theory", title: `Learning from perturbed noise against the number of noise images (${base})`,
    caption: "Clean test accuracy (best trained epoch, mean over seeds) of models trained only on the first N images of one perturbed uniform-noise set; paper B's MNIST/Fashion-MNIST graph (60 K to 1.2 M images) expects it to rise with N.",
    spec, svg: await renderSvg(spec),
  }];
}
