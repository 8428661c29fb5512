// advdyn as a user's project gets it: the `npm pack` tarball, unpacked into a consumer project's
// node_modules, type-checked with a standard strict tsconfig (lib ES2022 only) and run. The native
// addon is copied from this build and the dependencies linked from this checkout, as npm install
// would provide them (it would compile the addon and fetch the dependencies, minutes offline).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "advdyn-consumer-"));
after(() => rmSync(root, { recursive: true, force: true }));

const EXAMPLE = `import { analysis, attacks, data, models, store, studies, torch, train } from "advdyn";

// Types a user reaches through the namespaces.
const ref: attacks.AttackRef = { attack: "pgd", norm: "linf", eps: 8 / 255, options: { steps: 5 } };
const kinds: string[] = studies.jobKindNames();
const spec: studies.CatalogOptions = { scale: "smoke" };
const runs: typeof train.trainRun = train.trainRun;
const db: typeof store.ResultsDb = store.ResultsDb;

const ds = data.loadDataset("fourier-classes", { split: "test", fourierClasses: { size: 16, test: 16 } });
const x = torch.tidy(() => ds.images.to("float32").div(255));
const model = models.createModel("bwconv", { activation: "relu", channels: 4, inputShape: [3, 16, 16], classes: 10 });
// Tensors and generators are disposable (\`using\`), whatever the consumer's lib setting.
using g = new torch.Generator(1);
using noise = torch.rand([1], { generator: g });
const r = attacks.attackBatches(new attacks.AttackModel(model), attacks.createAttack(ref), x, ds.labels, { epsilons: [8 / 255], batchSize: 8, seed: 1 });
const s = torch.tidy(() => analysis.summarizeSpectrum(r.delta[0]!));
console.log(JSON.stringify({ kinds, scale: spec.scale, trainRun: typeof runs, db: typeof db, noise: noise.item(), linf: r.norms.linf.max().item(), radial: s.radial.sum(1).toArray() }));
torch.dispose([x, r, s, ds]);
model.dispose();
`;

test("a consumer project type-checks against the packed typings with lib ES2022 and runs an attack and a spectrum", () => {
  const pack = spawnSync("npm", ["pack", "--ignore-scripts", "--pack-destination", root, "--json"], { cwd: repo, encoding: "utf8" });
  assert.equal(pack.status, 0, pack.stderr);
  const tarball = join(root, JSON.parse(pack.stdout)[0].filename);
  const project = join(root, "project");
  const pkg = join(project, "node_modules", "advdyn");
  mkdirSync(pkg, { recursive: true });
  assert.equal(spawnSync("tar", ["-xzf", tarball, "-C", pkg, "--strip-components", "1"]).status, 0);
  assert.ok(!readdirSync(pkg).includes("test"), "the package ships no tests");
  cpSync(join(repo, "native", "build", "Release", "advdyn.node"), join(pkg, "native", "build", "Release", "advdyn.node"));
  symlinkSync(join(repo, "node_modules"), join(pkg, "node_modules"));
  mkdirSync(join(project, "node_modules", "@types"));
  symlinkSync(join(repo, "node_modules", "@types", "node"), join(project, "node_modules", "@types", "node"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
    compilerOptions: { target: "ES2022", lib: ["ES2022"], module: "NodeNext", moduleResolution: "NodeNext", strict: true, types: ["node"], outDir: "out" },
    include: ["example.ts"],
  }));
  writeFileSync(join(project, "example.ts"), EXAMPLE);
  const tsc = spawnSync(process.execPath, [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", project], { encoding: "utf8" });
  assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
  const run = spawnSync(process.execPath, [join(project, "out", "example.js")], { cwd: project, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.deepEqual(out.kinds, ["train", "attack-set", "derive-dataset", "measure", "evaluate", "theory-net", "perturbation-theory"]);
  assert.equal(out.trainRun, "function");
  assert.ok(out.linf <= 8 / 255 + 1e-6 && out.linf > 0);
  for (const v of out.radial) assert.ok(Math.abs(v - 1) < 1e-5);
});
