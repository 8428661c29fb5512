// `npm run bench [-- NAME ...]`: the benchmarks, each in its own process (engine, models, attacks
// and adversarial training by default; distributed on request: it needs redis-server).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const BENCHES: Record<string, string> = { engine: "run.js", models: "models.js", attacks: "attacks.js", at: "at.js", distributed: "distributed.js" };
const chosen = process.argv.slice(2);
const unknown = chosen.filter((b) => !(b in BENCHES));
if (unknown.length) {
  console.error(`bench: unknown benchmark ${unknown.join(", ")}; benchmarks: ${Object.keys(BENCHES).join(", ")}`);
  process.exit(2);
}
for (const name of chosen.length ? chosen : ["engine", "models", "attacks", "at"]) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(`./${BENCHES[name]}`, import.meta.url))], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
