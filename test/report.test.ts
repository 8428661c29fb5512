import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PNG } from "pngjs";
import { torch } from "../src/index.js";
import type { ResultRow } from "../src/store/db.js";
import { colorOf, upscale } from "../src/report/image.js";
import { type Figure, type Report, buildReport } from "../src/report/index.js";
import { type Fixture, H, MODELS, writeFixtureStudy } from "./report-fixture.js";
import { assertClose, runCli } from "./helpers.js";

let fx: Fixture;
let report: Report;
/** A real smoke-scale study by the study runner (learning dynamics: every figure kind but sweeps). */
let smoke: Report;
/** Paper B's and paper C's smoke studies: the theory (maps, sweeps, set images) and regularization sections. */
let paperB: Report[];
let paperC: Report;
before(async () => {
  fx = await writeFixtureStudy(join(mkdtempSync(join(tmpdir(), "advdyn-report-")), "study"));
  report = await buildReport(fx.dir);
  const dir = join(mkdtempSync(join(tmpdir(), "advdyn-report-smoke-")), "dynamics");
  const r = spawnSync(process.execPath, [fileURLToPath(new URL("../src/cli/main.js", import.meta.url)), "study", "dynamics", "--scale", "smoke", "--out", dir], { encoding: "utf8", timeout: 600_000 });
  assert.equal(r.status, 0, r.stderr);
  smoke = await buildReport(dir);
  const studyReport = async (...args: string[]) => {
    const out = join(mkdtempSync(join(tmpdir(), "advdyn-report-paper-")), args[0]!);
    const r = spawnSync(process.execPath, [fileURLToPath(new URL("../src/cli/main.js", import.meta.url)), "study", ...args, "--scale", "smoke", "--out", out], { encoding: "utf8", timeout: 600_000 });
    assert.equal(r.status, 0, r.stderr);
    return buildReport(out);
  };
  paperB = [await studyReport("perturbation-theory", "--sweep", "nadv"), await studyReport("perturbation-learning")];
  paperC = await studyReport("at-regularization");
});

const fig = (id: string): Figure => {
  const f = report.content.find((x) => x.id === id);
  assert.ok(f, `figure ${id} missing; have ${report.content.map((x) => x.id).join(", ")}`);
  return f;
};
const values = (f: Figure) => (f.spec.data as { values: Record<string, unknown>[] }).values;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / (xs.length - 1));
const pick = (f: (r: ResultRow) => boolean) => fx.rows.filter(f).map((r) => r.value);
/** assert.match without printing a whole SVG on failure. */
const has = (svg: string, re: RegExp, what = "") => assert.ok(re.test(svg), `SVG lacks ${re} ${what}`);

test("report writes index.html and every figure file", () => {
  assert.ok(existsSync(join(fx.dir, "report", "index.html")));
  for (const p of report.figures) assert.ok(existsSync(p), p);
  const html = readFileSync(report.html, "utf8");
  assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)="(https?:)?\/\//, "no network resources");
  for (const f of report.content) assert.ok(html.includes(`id="${f.id}"`), `${f.id} in the page`);
  assert.match(html, /Table 1: frequency-domain norms/);
  assert.ok(html.includes(process.version), "versions shown");
  // Only panels with data: no β figures for the nonlinear model, no breakpoints for linear ones.
  assert.ok(!report.content.some((f) => f.id === "pixels-beta-r18"));
  assert.ok(!report.content.some((f) => f.id.startsWith("breakpoints-fc")));
});

test("radial/angular energy figures show the seed-averaged stored curves", () => {
  for (const q of ["delta_radial", "delta_angular"]) {
    const v = values(fig(`energy-${q}`));
    for (const m of MODELS) {
      const bins = Math.max(...fx.rows.filter((r) => r.quantity === q).map((r) => r.bin!)) + 1;
      const want = Array.from({ length: bins }, (_, b) => mean(pick((r) => r.model === m.key && r.best && r.quantity === q && r.bin === b)));
      const got = v.filter((r) => r.key === m.key).sort((a, b) => Number(a.bin) - Number(b.bin));
      assertClose(got.map((r) => Number(r.value)), want, 1e-12, `${q} ${m.key}`);
      assert.ok(got.every((r) => r.model === m.label));
    }
  }
  const svg = fig("energy-delta_radial").svg;
  has(svg, /frequency radius \|k\| \(cycles\/image/);
  has(svg, /fraction of energy/);
  has(svg, /FC linear α=0\.1/, "legend names the models");
});

test("training-dynamics figures show stored accuracies, success and transfer rates, and the minimal-norm attacks' ‖δ‖ mean ± std", () => {
  const v = values(fig("dynamics-success"));
  assert.equal(v.length, MODELS.length * 3 * 4);
  for (const r of v) {
    const want = mean(pick((x) => x.model === r.key && x.checkpoint === r.checkpoint && x.attack === r.attack && x.quantity === r.quantity && x.example === null));
    assertClose(Number(r.value), want, 1e-12, `${r.key} ${r.checkpoint} ${r.attack} ${r.quantity}`);
    assert.equal(r.t, Number(String(r.checkpoint).slice(6)), "x axis is the epoch");
  }
  assert.ok(v.some((r) => r.attack === "pgd-linf@final"), "transfer series");
  // ‖δ‖ of the minimal-norm attacks with their success rate; never the fixed-ε PGD's ‖δ‖, which is ε by design.
  const n = values(fig("dynamics-norms"));
  assert.equal(n.length, MODELS.length * 3 * 4);
  assert.deepEqual(new Set(n.map((r) => `${r.attack} ${r.quantity}`)), new Set(["fmn-l2 delta_l2", "fmn-linf delta_linf", "fmn-l2 success_rate", "fmn-linf success_rate"]));
  for (const r of n) {
    const perExample = r.quantity !== "success_rate";
    const xs = pick((x) => x.model === r.key && x.checkpoint === r.checkpoint && x.attack === r.attack && x.quantity === r.quantity && (x.example !== null) === perExample);
    assertClose(Number(r.mean), mean(xs), 1e-9, `${r.key} ${r.checkpoint} ${r.attack} ${r.quantity}`);
    if (perExample) assertClose(Number(r.std), std(xs), 1e-9);
    assert.equal(r.n, xs.length);
  }
  has(fig("dynamics-norms").svg, /minimal ‖δ‖∞/);
});

test("breakpoint histograms hold exactly the stored per-example values, adversarial vs random", () => {
  for (const o of ["flips_ever", "flips_total", "roughness_true", "roughness_adv"]) {
    const v = values(fig(`breakpoints-r18-${o}`));
    const want = fx.rows.filter((r) => r.model === "r18" && (r.quantity === `${o}_adv` || r.quantity === `${o}_random`));
    const key = (q: unknown, c: unknown, x: unknown) => `${q}|${c}|${Number(x).toPrecision(12)}`;
    assert.deepEqual(v.map((r) => key(r.quantity, r.checkpoint, r.value)).sort(), want.map((r) => key(r.quantity, r.checkpoint, r.value)).sort());
    assert.deepEqual(new Set(v.map((r) => r.direction)), new Set(["adversarial δ", "random r, ‖r‖ = ‖δ‖"]));
  }
});

/** Every array cell's colour in the PNG is the colormap of the stored value. */
function assertHeatmap(png: Buffer, data: Float32Array, domain: [number, number]): void {
  const img = PNG.sync.read(png);
  const s = upscale(H, H);
  assert.equal(img.width, H * s);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < H; j++) {
      const o = ((i * s + Math.floor(s / 2)) * img.width + j * s) * 4;
      assert.deepEqual([img.data[o], img.data[o + 1], img.data[o + 2]], colorOf(data[i * H + j]!, domain, "viridis"), `cell ${i},${j}`);
    }
  }
}

const domainOf = (arrays: Float32Array[]): [number, number] => [Math.min(...arrays.map((a) => Math.min(...a))), Math.max(...arrays.map((a) => Math.max(...a)))];

test("spectrum heatmaps show the tensors files' arrays, on frequency axes with a colour bar", () => {
  const f = fig("spectra-delta");
  assert.deepEqual(f.panels!.map((p) => p.title), MODELS.map((m) => m.label));
  const arrays = MODELS.map((m) => fx.tensors[m.key]!["epoch-0002"]!.delta_log_magnitude!.data);
  const domain = domainOf(arrays);
  f.panels!.forEach((p, k) => {
    assert.deepEqual(Array.from(p.data), Array.from(arrays[k]!));
    assertHeatmap(p.png, arrays[k]!, domain);
  });
  has(f.svg, /k_x \(cycles\/image\)/);
  has(f.svg, /k_y \(cycles\/image\)/);
  has(f.svg, /log\|F\|/, "colour bar title");
  assert.ok(f.svg.includes(">−4<"), "frequency ticks start at −H/2, not at index 0");
  const b = fig("spectra-beta");
  assert.equal(b.panels!.length, 2, "β̂ only for the linear models");
  assert.deepEqual(Array.from(b.panels![0]!.data), Array.from(fx.tensors["fc-a0.1"]!["epoch-0002"]!.beta_log_magnitude!.data.subarray(0, H * H)));
  const px = fig("pixels-delta-fc-a10");
  assert.equal(px.panels!.length, 6, "3 clean images and 3 perturbations");
  assert.deepEqual(Array.from(px.panels![3]!.data), Array.from(fx.tensors["fc-a10"]!["epoch-0002"]!.delta_examples!.data.subarray(0, 3 * H * H)));
});

test("spectrum evolution has one frame per checkpoint, in training order, on one colour scale", () => {
  const f = fig("evolution-fc-a0.1");
  assert.deepEqual(f.frames!.map((x) => x.checkpoint), ["epoch-0000", "epoch-0001", "epoch-0002"]);
  const arrays = f.frames!.map((x) => fx.tensors["fc-a0.1"]![x.checkpoint]!.delta_log_magnitude!.data);
  const domain = domainOf(arrays);
  f.frames!.forEach((x, k) => {
    assert.deepEqual(Array.from(x.panel.data), Array.from(arrays[k]!));
    assertHeatmap(x.panel.png, arrays[k]!, domain);
  });
});

test("sweep panels group the models of a study.json group along their varying option", () => {
  const v = values(fig("sweep-alpha-statistics"));
  assert.deepEqual(new Set(v.map((r) => r.x)), new Set([0.1, 10]));
  for (const r of v) {
    const xs = pick((x) => x.model === r.key && x.best && x.quantity === r.quantity && x.example !== null);
    assertClose([Number(r.mean), Number(r.std)], [mean(xs), std(xs)], 1e-9);
  }
  has(fig("sweep-alpha-statistics").svg, /initScale/);
  assert.equal(fig("sweep-alpha-spectra-delta").panels!.length, 2);
});

test("tables: ours is mean ± std of the best checkpoint's rows, beside the paper's numbers", () => {
  const t = report.tables.find((x) => x.table.id === "table1")!;
  const cell = t.ours[0]![0]!;
  const xs = pick((r) => r.model === "fc-a0.1" && r.best && r.quantity === "delta_hat_l2" && r.attack === "pgd-linf");
  assert.equal(xs.length, 10, "both seeds' examples");
  assertClose([cell.mean, cell.std], [mean(xs), std(xs)], 1e-9);
  assert.deepEqual(t.labels, ["FC linear α=0.1", "FC linear α=10"]);
  const acc = report.tables.find((x) => x.table.id === "table4")!.ours[0]![0]!;
  assertClose(acc.mean, pick((r) => r.model === "fc-a10" && r.best && r.quantity === "test_accuracy"), 1e-12);
  const html = readFileSync(report.html, "utf8");
  assert.match(html, new RegExp(`${cell.mean.toFixed(2)} ± ${cell.std.toFixed(2)}</td><td class="paper">20\\.77 ± 1\\.23<`), "ours beside the paper's");
  assert.match(html, new RegExp(`>${acc.mean.toFixed(2)}</td><td class="paper">41\\.00<`), "one seed: no ± std");
});

test("a smoke-scale study's report shows its results.csv and tensors files", () => {
  const ids = smoke.content.map((f) => f.id);
  for (const id of ["spectra-delta", "energy-delta_radial", "dynamics-success", "dynamics-norms"]) assert.ok(ids.includes(id), `${id} in ${ids.join(", ")}`);
  assert.ok(ids.some((id) => id.startsWith("evolution-")) && ids.some((id) => id.startsWith("breakpoints-")));
  // results.csv is the runner's export of the same table: an independent path to the stored numbers.
  const dir = join(smoke.html, "..", "..");
  const [head, ...lines] = readFileSync(join(dir, "results.csv"), "utf8").trim().split("\n");
  const cols = head!.split(",");
  const csv = lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i], v])));
  for (const r of values(smoke.content.find((f) => f.id === "energy-delta_radial")!)) {
    const xs = csv.filter((c) => c.model === r.key && c.best === "true" && c.attack === "pgd-linf" && c.quantity === "delta_radial" && c.bin === String(r.bin)).map((c) => Number(c.value));
    assert.ok(xs.length > 0);
    assertClose(Number(r.value), mean(xs), 1e-9, `bin ${r.bin}`);
  }
  const evo = smoke.content.find((f) => f.id.startsWith("evolution-"))!;
  for (const fr of evo.frames!) {
    const file = join(dir, "tensors", "fourier-classes", evo.id.slice("evolution-".length), "seed-0", fr.checkpoint, "pgd-linf.safetensors");
    const { tensors } = torch.loadSafetensors(file);
    assert.deepEqual(Array.from(fr.panel.data), Array.from(tensors.get("delta_log_magnitude")!.toTypedArray() as Float32Array), fr.checkpoint);
    torch.dispose([...tensors.values()]);
  }
});

test("a study folder copied elsewhere renders its report", async () => {
  const copy = join(mkdtempSync(join(tmpdir(), "advdyn-report-copy-")), "moved");
  cpSync(fx.dir, copy, { recursive: true });
  // The original is moved away, so nothing may still read from it.
  const gone = `${fx.dir}-gone`;
  renameSync(fx.dir, gone);
  try {
    const r = await buildReport(copy);
    assert.equal(r.content.length, report.content.length);
    assert.ok(!readFileSync(r.html, "utf8").includes(fx.dir), "no path of the original folder in the page");
  } finally {
    renameSync(gone, fx.dir);
  }
});

test("advdyn report: errors name the missing folder or file", async () => {
  const root = mkdtempSync(join(tmpdir(), "advdyn-report-bad-"));
  const report = (...args: string[]) => runCli(["report", ...args]);
  await assert.rejects(report(join(root, "nope")), /nope: no such study folder/);
  await assert.rejects(report(root), /study\.json: missing/);
  writeFileSync(join(root, "study.json"), JSON.stringify({ study: "x", spec: { models: [], tables: [], jobs: [] } }));
  await assert.rejects(report(root), /results\.duckdb: missing/);
  writeFileSync(join(root, "results.duckdb"), "not a database");
  await assert.rejects(report(root), new RegExp(`${join(root, "results.duckdb").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: cannot open the results database`));
  await assert.rejects(report(), /missing required argument 'study'/);
});

const CHROMIUM = "/usr/bin/chromium";
const browserSkip = !existsSync(CHROMIUM) && !process.env.ADVDYN_REQUIRE_BROWSER
  ? `${CHROMIUM} not installed (apt-get install chromium); set ADVDYN_REQUIRE_BROWSER=1 to make this a failure` : false;

test("the reports open in headless Chromium: no console errors, images loaded, slider steps the spectrum", { skip: browserSkip }, async (t) => {
  const { chromium } = await import("playwright-core");
  // --no-sandbox: CI and this project's machines run tests as root, where Chromium's sandbox refuses to start.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    for (const r of [report, smoke, ...paperB, paperC]) await t.test(r.html, () => checkInBrowser(browser, r));
  } finally {
    await browser.close();
  }
});

async function checkInBrowser(browser: import("playwright-core").Browser, report: Report): Promise<void> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => { if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) errors.push(`network request ${r.url()}`); });
  await page.goto(pathToFileURL(report.html).href, { waitUntil: "load" });
  // (The project compiles without the DOM library, hence the structural type of an <img>.)
  type Img = { complete: boolean; naturalWidth: number; alt: string };
  const images = await page.$$eval("img", (els) => els.map((e) => ({ ok: (e as unknown as Img).complete && (e as unknown as Img).naturalWidth > 0, alt: (e as unknown as Img).alt })));
  assert.ok(images.length >= report.content.length, `${images.length} images`);
  assert.deepEqual(images.filter((i) => !i.ok), [], "every image loaded");
  const shot = PNG.sync.read(await page.screenshot({ fullPage: true }));
  let nonWhite = 0;
  for (let i = 0; i < shot.data.length; i += 4) if (shot.data[i]! < 200 || shot.data[i + 1]! < 200 || shot.data[i + 2]! < 200) nonWhite++;
  assert.ok(nonWhite > shot.width * shot.height * 0.01, `screenshot is not blank (${nonWhite} non-white pixels)`);

  const figure = page.locator("figure.evolution").first();
  if ((await figure.count()) === 0) {
    assert.ok(!report.content.some((f) => f.frames), "every evolution figure has its slider");
    assert.deepEqual(errors, []);
    await page.close();
    return;
  }
  await figure.scrollIntoViewIfNeeded();
  const frames = figure.locator(".frames");
  const label = figure.locator("output");
  const beforeShot = await frames.screenshot();
  const beforeLabel = await label.textContent();
  await figure.locator("input[type=range]").fill("0");
  const afterShot = await frames.screenshot();
  assert.notEqual(await label.textContent(), beforeLabel);
  assert.match((await label.textContent())!, /epoch-0000/);
  assert.ok(!beforeShot.equals(afterShot), "the displayed spectrum changed");
  assert.deepEqual(errors, []);
  await page.close();
}

test("layer singular values of an init-scale smoke study are the stored sv:* rows", async () => {
  const dir = join(mkdtempSync(join(tmpdir(), "advdyn-report-alpha-")), "alpha");
  const r = spawnSync(process.execPath, [fileURLToPath(new URL("../src/cli/main.js", import.meta.url)), "study", "init-scale", "--scale", "smoke", "--out", dir], { encoding: "utf8", timeout: 600_000 });
  assert.equal(r.status, 0, r.stderr);
  const alpha = await buildReport(dir);
  const f = alpha.content.find((x) => x.id === "layers-singular-values");
  assert.ok(f, `no layer figure in ${alpha.content.map((x) => x.id).join(", ")}`);
  const [head, ...lines] = readFileSync(join(dir, "results.csv"), "utf8").trim().split("\n");
  const cols = head!.split(",");
  const csv = lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i], v]))).filter((c) => c.quantity!.startsWith("sv:") && c.best === "true");
  const shown = values(f);
  assert.equal(shown.length, csv.length);
  const labels = new Map(alpha.info.spec.models.map((m) => [m.label, m.key]));
  for (const v of shown) {
    const row = csv.find((c) => c.model === labels.get(String(v.model)) && c.quantity === `sv:${v.layer}` && Number(c.bin) + 1 === v.rank)!;
    assertClose(Number(v.value), Number(row.value), 1e-9);
  }
  // Each layer's values are in descending order.
  for (const layer of new Set(shown.map((v) => `${v.model}|${v.layer}`))) {
    const vs = shown.filter((v) => `${v.model}|${v.layer}` === layer).sort((a, b) => Number(a.rank) - Number(b.rank)).map((v) => Number(v.value));
    assert.ok(vs.every((x, i) => i === 0 || vs[i - 1]! >= x), layer);
  }
});

test("perturbation-theory --sweep nadv: one map per noise and norm with f's boundary and g's for every N^adv", () => {
  const [theory] = paperB;
  const figures = theory!.content.filter((f) => f.id.startsWith("theory-boundaries-"));
  assert.deepEqual(figures.map((f) => f.id).sort(), ["gaussian", "uniform"].flatMap((n) => ["l0", "l2", "linf"].map((m) => `theory-boundaries-${n}-${m}`)));
  const nAdv = [...new Set(theory!.info.spec.models.map((m) => Number(m.options.nAdv)))].sort((a, b) => a - b);
  for (const f of figures) {
    const networks = new Set(values(f).map((v) => String(v.network)));
    assert.ok(networks.has("f"), f.id);
    // A g that agrees with itself everywhere has no boundary on the window; every drawn one is a swept N^adv.
    for (const n of networks) if (n !== "f") assert.ok(nAdv.includes(Number(n.split("= ")[1])), `${f.id}: ${n}`);
    assert.ok(networks.size >= 2, `${f.id}: at least one g boundary`);
  }
});
