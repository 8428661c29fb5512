// `npm run bench [-- NAME ...]`: the benchmarks, each in its own process (engine, models in float32
// and in bfloat16, attacks and adversarial training by default; distributed on request: it needs
// redis-server).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const BENCHES: Record<string, string[]> = {
  engine: ["run.js"], models: ["models.js"], "models-bf16": ["models.js", "--precision", "bf16"], attacks: ["attacks.js"], at: ["at.js"], distributed: ["distributed.js"],
};
const chosen = process.argv.slice(2);
const unknown = chosen.filter((b) => !(b in BENCHES));
if (unknown.length) {
  console.error(`bench: unknown benchmark ${unknown.join(", ")}; benchmarks: ${Object.keys(BENCHES).join(", ")}`);
  process.exit(2);
}
for (const name of chosen.length ? chosen : ["engine", "models", "models-bf16", "attacks", "at"]) {
  const [script, ...args] = BENCHES[name]!;
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(`./${script}`, import.meta.url)), ...args], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
