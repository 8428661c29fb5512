// What the benchmarks share: the peer environments and finding a Python with torch.
import { execFileSync } from "node:child_process";

// The variables advdyn tunes for itself. native.ts has put OMP_WAIT_POLICY into this process's
// environment, so the "as a user runs it" peer must have them removed, not merely not added.
export const TUNING = ["OMP_WAIT_POLICY", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_"];
export const USER_ENV: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !TUNING.includes(k)));
/** advdyn's settings (the addon's mallopt at load) as environment. */
export const SAME_SETTINGS_ENV: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: "PASSIVE", MALLOC_MMAP_MAX_: "0", MALLOC_TRIM_THRESHOLD_: "100000000000" };

export interface Python {
  exe: string;
  torch: string;
  safetensors: boolean;
}

/** The first of $PYTHON, python3, /usr/bin/python3 that imports torch. */
export function findPython(): Python | undefined {
  const probe = "import importlib.util, torch; print(torch.__version__); print(importlib.util.find_spec('safetensors') is not None)";
  for (const exe of [process.env.PYTHON, "python3", "/usr/bin/python3"]) {
    if (!exe) continue;
    try {
      const [version, safetensors] = execFileSync(exe, ["-c", probe], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim().split("\n");
      return { exe, torch: version!, safetensors: safetensors === "True" };
    } catch {
      // no torch in this interpreter: try the next
    }
  }
  return undefined;
}
