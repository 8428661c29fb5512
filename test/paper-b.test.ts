// Paper B: the artificial setting (the exponential loss, the SVM dual of f^bdy, the full-batch
// trainer's resume after kill -9, unbounded attacks, the central claim at demo scale) and the
// real-data study (input normalisation, perturbation sets, resume, the claim on Fashion-MNIST).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { boundaryMargin, orthogonality, svmDual } from "../src/analysis/boundary.js";
import { nextClassTargets } from "../src/attacks/criteria.js";
import { createAttack } from "../src/attacks/registry.js";
import { createModel } from "../src/models/index.js";
import { AttackModel } from "../src/nn/attack-model.js";
import { torch } from "../src/index.js";
import { jobKind } from "../src/studies/kinds/index.js";
import { perturbationLearningSpec, perturbationTheorySpec } from "../src/studies/paper-b.js";
import { type AttackSetSummary, sourceExamples } from "../src/studies/kinds/attack-set.js";
import { readFolderSplit } from "../src/data/folder.js";
import { RunDir } from "../src/store/run.js";
import { buildReport } from "../src/report/index.js";
import { readRunConfig } from "../src/train/run-model.js";
import { runStudy } from "../src/studies/runner.js";
import { exponentialLoss, trainFullBatch } from "../src/train/full-batch.js";
import { assertClose, debris, f64, noFashion, queryStudy, studyContents, values } from "./helpers.js";

const bin = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
const worker = fileURLToPath(new URL("./fixtures/full-batch-worker.js", import.meta.url));

/**
 * N exactly orthogonal rows in d dimensions (a random rotation of scaled basis vectors), ±1 labels,
 * and 1000 fresh Gaussian points. Norms: one common scale in [5, 10] (`equal`) or each row its own.
 */
function orthogonalSet(n: number, d: number, seed: number, equal = false) {
  const g = new torch.Generator(seed);
  return torch.tidy(() => {
    const { Q } = torch.linalg.qr(torch.randn([d, n], { generator: g, dtype: "float64" }));
    const norms = torch.rand([equal ? 1 : n], { generator: g, dtype: "float64" }).mul(5).add(5).expand(n);
    const x = Q.T.mul(norms.unsqueeze(1)).contiguous();
    const y = torch.randint(0, 2, [n], { generator: g }).to("float64").mul(2).sub(1);
    return { x, y, norms, z: torch.randn([1000, d], { generator: g }) };
  });
}

test("exponential loss and its gradient for a linear margin: mean exp(−y w·x) and −mean(y x exp(−y w·x))", () => {
  const x = f64([7, 5], 1);
  const y = torch.tensor([1, -1, 1, 1, -1, -1, 1], { dtype: "float64" });
  const w = f64([5], 2).requiresGrad_(true);
  const loss = exponentialLoss(x.matmul(w), y);
  loss.backward();
  const [xs, ys, ws] = [values(x), values(y), values(w)];
  const margins = ys.map((yi, i) => yi * xs.slice(5 * i, 5 * i + 5).reduce((s, v, k) => s + v * ws[k]!, 0));
  assertClose(loss.item(), margins.reduce((s, m) => s + Math.exp(-m), 0) / 7, 1e-12);
  const grad = ws.map((_, k) => -margins.reduce((s, m, i) => s + ys[i]! * xs[5 * i + k]! * Math.exp(-m), 0) / 7);
  assertClose(w.grad!, grad, 1e-12);
  torch.dispose([x, y, w, loss]);
});

test("SVM dual on exactly orthogonal data: λ_n = 1/‖x_n‖², all margins 1 (3 seeds)", () => {
  for (const seed of [0, 1, 2]) {
    const s = orthogonalSet(12, 60, seed);
    const dual = svmDual(s.x, s.y, { tol: 1e-9 });
    assertClose(dual.lambda, values(s.norms).map((r) => 1 / r ** 2), 1e-8, `seed ${seed}`);
    assert.ok(dual.residual <= 1e-9);
    assertClose(boundaryMargin(s.x, s.y, dual.lambda, s.x).mul(s.y), Array(12).fill(1), 1e-7);
    const o = orthogonality(s.x, 0.01);
    const r = values(s.norms);
    assert.ok(o.pMax < 1e-10, "orthogonal rows");
    assertClose([o.rMin, o.rMax, o.bound], [Math.min(...r), Math.max(...r), 1e-6 * Math.min(...r) ** 4 / (3 * 12 * Math.max(...r) ** 2)], 1e-9);
    torch.dispose([s, dual.lambda]);
  }
});

test("SVM dual on correlated data satisfies the KKT conditions (a margin-1 support set, λ ≥ 0)", () => {
  const g = new torch.Generator(5);
  const x = torch.randn([30, 8], { generator: g, dtype: "float64" });
  const w = torch.randn([8], { generator: g, dtype: "float64" });
  const y = x.matmul(w).sign();
  const dual = svmDual(x, y, { tol: 1e-7 });
  const margins = values(boundaryMargin(x, y, dual.lambda, x).mul(y));
  const lambda = values(dual.lambda);
  assert.ok(margins.every((m) => m >= 1 - 1e-6), "every margin ≥ 1");
  lambda.forEach((l, i) => { if (l > 1e-6) assert.ok(Math.abs(margins[i]! - 1) < 1e-6, "support vectors on the margin"); });
  assert.ok(lambda.every((l) => l >= 0) && lambda.some((l) => l > 0));
  torch.dispose([x, w, y, dual.lambda]);
});

/** Trains paper B's f full-batch on (x, y) from a small initialisation; the fraction of `points` where sgn f = sgn f^bdy. */
function boundaryAgreement(s: ReturnType<typeof orthogonalSet>, seed: number): { onD: number; fresh: number } {
  const [n, d] = s.x.shape as [number, number];
  const [x, y] = [s.x.to("float32"), s.y.to("float32")];
  // Paper B's theory assumes a small initialisation (SCIENCE B-1: σ ≈ 1e-4/√d).
  const f = createModel("onehidden", { inputShape: [d], width: 2 * n, seed, initStd: 1e-4 / Math.sqrt(d) });
  try {
    const curve = trainFullBatch(f, x, y, { iterations: 5000, lr: 0.01, momentum: 0.9, statePath: join(mkdtempSync(join(tmpdir(), "advdyn-fb-")), "s.safetensors"), curveEvery: 500 });
    assert.equal(curve.at(-1)!.accuracy, 1, `seed ${seed}: training accuracy`);
    assert.ok(curve.at(-1)!.loss < 0.01, "the loss falls from ≈ 1 (margins ≈ 0 at a small init)");
    const dual = svmDual(s.x, s.y);
    const agree = (p: torch.Tensor) => torch.tidy(() => torch.noGrad(() => f.eval().forward(p.to("float32")).to("float64").mul(boundaryMargin(s.x, s.y, dual.lambda, p)).gt(0).to("float64").mean().item()));
    const out = { onD: agree(s.x), fresh: agree(s.z) };
    dual.lambda.dispose();
    return out;
  } finally {
    torch.dispose([x, y]);
    f.dispose();
  }
}

test("f trained full-batch on exactly orthogonal data (orthonormal rows, one scale) takes f^bdy's sign on D and on 1000 fresh points, ≥ 99 % (4 seeds)", () => {
  for (const seed of [0, 1, 2, 3]) {
    const s = orthogonalSet(20, 200, seed, true);
    const { onD, fresh } = boundaryAgreement(s, seed);
    assert.equal(onD, 1, `seed ${seed}: on D`);
    // Measured 0.998–1 over seeds 0–5.
    assert.ok(fresh >= 0.99, `seed ${seed}: on 1000 fresh Gaussian points ${fresh}`);
    torch.dispose(s);
  }
});

test("with rows of different norms f still fits D with f^bdy's sign, and approaches it on fresh points only slowly (3 seeds)", () => {
  for (const seed of [0, 1, 2]) {
    const s = orthogonalSet(20, 200, seed);
    const { onD, fresh } = boundaryAgreement(s, seed);
    assert.equal(onD, 1, `seed ${seed}: on D`);
    // Measured 0.971–0.989 over seeds 0–5 at 5,000 iterations. The margins of the exponential loss
    // grow as log(‖x_n‖²·t), so λ_n ∝ 1/‖x_n‖² (equal margins) is reached only as 1/log t.
    assert.ok(fresh >= 0.95, `seed ${seed}: on 1000 fresh Gaussian points ${fresh}`);
    torch.dispose(s);
  }
});

test("paper B's targeted PGD runs on unbounded (Gaussian) inputs and moves them past the box; box attacks refuse them by name", () => {
  const g = new torch.Generator(2);
  const x = torch.randn([16, 50], { generator: g }).mul(3);
  const y = torch.randint(0, 2, [16], { generator: g });
  const f = createModel("onehidden", { inputShape: [50], width: 10, seed: 1 });
  const model = new AttackModel(f, { bounds: [-Infinity, Infinity] });
  const crit = nextClassTargets(y, 2);
  const r = createAttack({ attack: "paper-b-pgd", norm: "l2", eps: 5, options: { steps: 50 } }).run(model, x, crit, { epsilons: [5] });
  const l2 = values(r.norms.l2);
  assert.ok(l2.every((n) => n <= 5 + 1e-4) && Math.max(...l2) > 4, `‖δ‖₂ up to ε: ${l2}`);
  assert.ok(torch.tidy(() => r.clipped[0]!.abs().max().item()) > 1, "inputs outside [−1, 1] stay");
  assert.ok(torch.tidy(() => r.success.to("float64").mean().item()) > 0.5, "most reach their target");
  assert.throws(() => createAttack({ attack: "ddn", norm: "l2", eps: null }).run(model, x, y, { epsilons: [null] }), /DDN needs finite input bounds; the model's are \[-Infinity, Infinity\]/);
  torch.dispose([x, y, crit.targets, r]);
  f.dispose();
});

test("the trainer resumes after kill -9 at random moments with the weights and curve of an uninterrupted run", async () => {
  const run = (dir: string) => spawnSync(process.execPath, [worker, dir], { encoding: "utf8" });
  const reference = mkdtempSync(join(tmpdir(), "advdyn-fb-ref-"));
  const began = performance.now();
  assert.equal(run(reference).status, 0);
  const seconds = (performance.now() - began) / 1000;
  const dir = mkdtempSync(join(tmpdir(), "advdyn-fb-cut-"));
  let kills = 0;
  for (let attempt = 0; attempt < 8 && kills < 3; attempt++) {
    const child = spawn(process.execPath, [worker, dir], { stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_, signal) => r(signal)));
    const timer = setTimeout(() => child.kill("SIGKILL"), 300 + Math.random() * 1000 * seconds * 0.6);
    if ((await exited) === "SIGKILL") kills++;
    clearTimeout(timer);
  }
  assert.ok(kills >= 2, `only ${kills} runs were interrupted`);
  assert.equal(run(dir).status, 0);
  assert.deepEqual(readFileSync(join(dir, "final.safetensors")), readFileSync(join(reference, "final.safetensors")));
  assert.deepEqual(debris(dir), []);
});

test("perturbation-theory refuses bad cells and networks by field before running", () => {
  const { jobs } = perturbationTheorySpec({ scale: "smoke" });
  const kind = jobKind("perturbation-theory");
  const good = jobs.find((j) => j.kind === "perturbation-theory")!;
  kind.check(good);
  const bad = (inputs: Record<string, unknown>) => () => kind.check({ ...good, inputs: { ...good.inputs, ...inputs } });
  assert.throws(bad({ width: 21 }), /inputs\.width must be even/);
  assert.throws(bad({ norm: "l1" }), /inputs\.norm is "l1"; allowed: l0, l2, linf/);
  assert.throws(bad({ norm: "l0", eps: 3 }), /share of coordinates for L0, in \(0, 1\]/);
  assert.throws(bad({ noise: "laplace" }), /inputs\.noise/);
  assert.throws(() => kind.check({ ...good, deps: { f: good.deps!.f! } }), /needs its theory-net jobs f \(on D\) and h/);
  const net = jobKind("theory-net");
  const f = jobs.find((j) => j.id === good.deps!.f)!;
  net.check(f);
  assert.throws(() => net.check({ ...f, inputs: { ...f.inputs, set: "test" } }), /inputs\.set is "test"; allowed: natural, noise/);
  assert.throws(() => net.check({ ...f, inputs: { ...f.inputs, n: 0 } }), /inputs\.n must be an integer ≥ 1/);
});

test("perturbation-theory: the cells of a noise law share one f and one h (they depend on neither the norm nor ε)", () => {
  const { jobs } = perturbationTheorySpec({ scale: "smoke", seeds: [0, 1] });
  const cells = jobs.filter((j) => j.kind === "perturbation-theory");
  const nets = jobs.filter((j) => j.kind === "theory-net");
  assert.equal(cells.length, 12);
  assert.equal(nets.length, 8, "f and h per noise law and seed");
  for (const noise of ["uniform", "gaussian"]) {
    for (const seed of [0, 1]) {
      const own = cells.filter((c) => (c.inputs as { noise: string }).noise === noise && c.tags.seed === seed);
      assert.equal(new Set(own.map((c) => c.deps!.f)).size, 1);
      assert.equal(new Set(own.map((c) => c.deps!.h)).size, 1);
    }
  }
  // Along N^adv, h changes with the noise set and f does not.
  const sweep = perturbationTheorySpec({ scale: "smoke", sweep: "nadv" }).jobs;
  assert.equal(sweep.filter((j) => j.kind === "theory-net" && (j.inputs as { set: string }).set === "natural").length, 2);
  assert.equal(sweep.filter((j) => j.kind === "theory-net" && (j.inputs as { set: string }).set === "noise").length, 8);
});

/**
 * Runs `advdyn study NAME --scale smoke` once uninterrupted and once killed (kill -9) at ≥ 2 random
 * moments and rerun; asserts equal contents and no debris; returns the reference folder.
 */
async function killedStudyMatches(name: string): Promise<string> {
  const args = (out: string) => [bin, "study", name, "--scale", "smoke", "--out", out, "--json"];
  const reference = join(mkdtempSync(join(tmpdir(), "advdyn-pb-")), "ref");
  const began = performance.now();
  assert.equal(spawnSync(process.execPath, args(reference)).status, 0);
  const seconds = (performance.now() - began) / 1000;
  const dir = join(mkdtempSync(join(tmpdir(), "advdyn-pb-")), "cut");
  let kills = 0;
  for (let attempt = 0; attempt < 10 && kills < 3; attempt++) {
    const child = spawn(process.execPath, args(dir), { stdio: "ignore" });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_, signal) => r(signal)));
    const timer = setTimeout(() => child.kill("SIGKILL"), 500 + Math.random() * 1000 * seconds * 0.7);
    if ((await exited) === "SIGKILL") kills++;
    clearTimeout(timer);
  }
  assert.ok(kills >= 2, `only ${kills} runs were interrupted`);
  assert.equal(spawnSync(process.execPath, args(dir)).status, 0);
  assert.deepEqual(await studyContents(dir), await studyContents(reference));
  assert.deepEqual(debris(dir), []);
  return reference;
}

test("perturbation-theory, smoke: kill -9 during the study, then a rerun, gives the uninterrupted results and no debris", async () => {
  const reference = await killedStudyMatches("perturbation-theory");
  const rows = await queryStudy(reference, "SELECT model, attack, quantity, value FROM results WHERE quantity IN ('acc_f', 'bdy_agreement') ORDER BY ALL");
  assert.equal(rows.length, 12);
  for (const r of rows) assert.equal(Number(r.value), 1, `${r.model} ${r.attack} ${r.quantity}: f fits D and agrees with f^bdy on it`);
});

test("paper B's claim at demo scale (uniform noise, every norm): g trained on perturbed noise classifies D (≥ 0.9), h on raw noise does not (0.5 ± 0.1)", async () => {
  const spec = perturbationTheorySpec({ scale: "demo" });
  spec.jobs = spec.jobs.filter((j) => (j.inputs as { noise: string }).noise === "uniform").map((j) => (j.kind === "perturbation-theory" ? { ...j, inputs: { ...j.inputs, map: 0 } } : j));
  const out = join(mkdtempSync(join(tmpdir(), "advdyn-pt-demo-")), "study");
  await runStudy(spec, out, { progress: false });
  const rows = await queryStudy(out, "SELECT attack, quantity, value FROM results WHERE quantity IN ('acc_f', 'acc_g', 'acc_h') ORDER BY ALL");
  assert.equal(rows.length, 9);
  for (const r of rows) {
    const v = Number(r.value);
    if (r.quantity === "acc_f") assert.equal(v, 1, `${r.attack}: f fits D`);
    if (r.quantity === "acc_g") assert.ok(v >= 0.9, `${r.attack}: acc(g, D) = ${v}`);
    if (r.quantity === "acc_h") assert.ok(Math.abs(v - 0.5) <= 0.1, `${r.attack}: acc(h, D) = ${v}`);
  }
});

// ---- perturbation-learning (real images) ----

test("normalize: (x − mean) / std inside the model, the same logits as normalising by hand; inputs outside [0, 1] refused", () => {
  const g = new torch.Generator(1);
  const x = torch.rand([4, 1, 28, 28], { generator: g });
  const inside = createModel("convnet-mnist", { seed: 3, normalize: { mean: [0.286], std: [0.353] } });
  const plain = createModel("convnet-mnist", { seed: 3 });
  assertClose(inside.forward(x), values(plain.forward(x.sub(0.286).div(0.353))), 1e-5);
  assert.throws(() => inside.forward(x.add(0.5)), /normalize: inputs must lie in \[0, 1\], got min 0\.5\d*, max 1\.4\d*/);
  assert.throws(() => createModel("convnet-mnist", { normalize: { mean: [0.5], std: [0] } as never }), /normalize/);
  torch.dispose(x);
  inside.dispose();
  plain.dispose();
});

test("perturbation-learning, smoke: every set is x + δ of its source with the targets as labels, in [0, 1]; natural_det targets (y + 1) mod K, natural_rand never y, uniform on noise", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "advdyn-pl-")), "study");
  const spec = perturbationLearningSpec({ scale: "smoke" });
  await runStudy(spec, out, { progress: false });
  const sets = spec.jobs.filter((j) => j.kind === "attack-set");
  assert.equal(sets.length, 9);
  for (const job of sets) {
    const scenario = String(job.tags.model);
    const summary = JSON.parse(readFileSync(join(out, job.id, "summary.json"), "utf8")) as AttackSetSummary;
    const run = new RunDir(join(out, summary.source.run));
    const source = sourceExamples(run, readRunConfig(run), summary.source);
    const { tensors } = torch.loadSafetensors(join(out, job.id, "attack.safetensors"));
    const derived = readFolderSplit(join(out, job.id.replace(/attack$/, "data")), "train");
    const [y, t] = [values(source.labels), values(tensors.get("targets")!)];
    assert.deepEqual(values(derived.labels), t, `${job.id}: the labels are the targets`);
    assertClose(derived.images, values(torch.tidy(() => source.images.add(tensors.get("delta.0")!).clamp(0, 1))), 0, `${job.id}: x + δ`);
    const [lo, hi] = torch.tidy(() => [derived.images.min().item(), derived.images.max().item()]);
    assert.ok(lo! >= 0 && hi! <= 1);
    if (scenario === "natural_det") assert.deepEqual(t, y.map((c) => (c + 1) % source.classes));
    else assert.ok(t.every((c, i) => c !== y[i]), `${job.id}: a target differs from the label`);
    assert.equal(summary.source.base, scenario === "uniform" ? "uniform" : "data");
    torch.dispose([...tensors.values()]);
    torch.dispose([source, derived]);
  }
  const trained = await queryStudy(out, "SELECT DISTINCT dataset, model FROM results WHERE quantity = 'test_accuracy' AND model <> 'source' ORDER BY ALL");
  assert.equal(trained.length, 9, "a fresh model on each set");
  // The report shows each set: x, δ and x + δ for its first examples, x + δ exactly as stored.
  const figures = (await buildReport(out)).content.filter((f) => f.id.startsWith("perturbation-set-"));
  assert.equal(figures.length, 9);
  const first = spec.jobs.find((j) => j.kind === "derive-dataset" && `perturbation-set-${j.tags.dataset}_${j.tags.model}` === figures[0]!.id)!;
  const stored = readFolderSplit(join(out, first.id), "train");
  const panels = figures[0]!.panels!;
  const k = panels.length / 3;
  assert.deepEqual([...panels[2 * k]!.data], values(torch.tidy(() => stored.images.select(0, 0).flatten())));
  assert.match(panels[2 * k]!.title, new RegExp(`new label ${values(stored.labels)[0]}$`));
  torch.dispose(stored);
});

test("perturbation-learning, --noise-sizes: each size is the first N images of one perturbed-noise set, trained on; a table and a figure against N", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "advdyn-pl-")), "study");
  const spec = perturbationLearningSpec({ scale: "smoke", noiseSizes: [64, 16] });
  await runStudy(spec, out, { progress: false });
  const set = (n: number) => readFolderSplit(join(out, `sets/fourier-classes/uniform-l2-n${n}/seed-0/data`), "train");
  const [small, large] = [set(16), set(64)];
  assert.deepEqual([small.labels.shape[0], large.labels.shape[0]], [16, 64]);
  assert.deepEqual(values(small.images), values(torch.tidy(() => large.images.narrow(0, 0, 16))), "nested sets");
  torch.dispose([small, large]);
  const rows = await queryStudy(out, "SELECT dataset, model FROM results WHERE best AND quantity = 'test_accuracy' AND model LIKE 'uniform-n%' ORDER BY ALL");
  assert.equal(rows.length, 6, "a model per size and norm");
  assert.deepEqual(spec.tables.find((t) => t.id === "noise-size-fourier-classes")!.rows.map((r) => r.model), ["uniform-n16", "uniform-n64"]);
  assert.equal((await buildReport(out)).content.filter((f) => f.id === "noise-size-fourier-classes").length, 1);
});

test("perturbation-learning, smoke: kill -9 during the study (derive-dataset, the second trainings), then a rerun, gives the uninterrupted results", async () => {
  await killedStudyMatches("perturbation-learning");
});

test("paper B's real-data claim at demo scale on Fashion-MNIST: models trained only on natural_rand or noise perturbation sets beat chance (10 %) by far", { skip: noFashion }, async () => {
  const out = join(mkdtempSync(join(tmpdir(), "advdyn-pl-demo-")), "study");
  await runStudy(perturbationLearningSpec({ scale: "demo", datasets: ["fashion-mnist"] }), out, { progress: false });
  const rows = await queryStudy(out, "SELECT dataset, model, value FROM results WHERE best AND quantity = 'test_accuracy' AND model IN ('natural_rand', 'uniform') ORDER BY ALL");
  assert.equal(rows.length, 6);
  // Measured 55–74 % (seed 0); natural_det is not asserted: with the small demo model its sets fool the source model 14–24 % of the time, too weak to override the natural features.
  for (const r of rows) assert.ok(Number(r.value) >= 40, `${r.dataset} ${r.model}: ${r.value} %`);
});
