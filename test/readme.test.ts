import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

test("the README's API example runs as written", () => {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(example, "README has a ts example");
  // The example is TypeScript only through non-null assertions; the import resolves to the build.
  const js = example.replace(/from "advdyn"/g, `from ${JSON.stringify(join(root, "dist/src/index.js"))}`).replace(/!\)/g, ")");
  const dir = mkdtempSync(join(tmpdir(), "advdyn-readme-"));
  writeFileSync(join(dir, "example.mjs"), js);
  const r = spawnSync(process.execPath, ["example.mjs"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(readFileSync(join(dir, "w.safetensors")).byteLength > 10 * 3072 * 4);
});
