import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

test("the README's API examples run as written", () => {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.equal(examples.length, 2, "README has two ts examples");
  const dir = mkdtempSync(join(tmpdir(), "advdyn-readme-"));
  examples.forEach((example, i) => {
    // The examples are TypeScript only through non-null assertions; the import resolves to the build.
    const js = example.replace(/from "advdyn"/g, `from ${JSON.stringify(join(root, "dist/src/index.js"))}`).replace(/!\)/g, ")");
    writeFileSync(join(dir, `example-${i}.mjs`), js);
    const r = spawnSync(process.execPath, [`example-${i}.mjs`], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, `example ${i}: ${r.stderr}`);
    if (example.includes("analysis.summarizeSpectrum")) {
      // The printed radial energy per class (the last [...] of the output) is a distribution.
      const radialSums = [...r.stdout.matchAll(/\[([^\]]*)\]/g)].pop()![1]!.split(",").map(Number);
      assert.equal(radialSums.length, 4);
      for (const v of radialSums) assert.ok(Math.abs(v - 1) < 1e-5, r.stdout);
    }
  });
  assert.ok(readFileSync(join(dir, "w.safetensors")).byteLength > 10 * 3072 * 4);
});
