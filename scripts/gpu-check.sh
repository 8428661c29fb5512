#!/usr/bin/env bash
# The GPU path, checked in one run on a machine with an NVIDIA GPU and a CUDA build of PyTorch for
# Python (a few minutes of GPU time): builds the addon against that libtorch, runs selfcheck, an
# adversarial training and a smoke study with tensors on CUDA (the study's rows must match a CPU
# run of it to 1e-3), times paper-scale `ifr` epochs for two models, and writes
# bench/results/gpu.json. Without a CUDA GPU it says so and exits 0: there is nothing to check.
#
#   bash scripts/gpu-check.sh            (PYTHON=... picks the interpreter whose torch has CUDA)
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
if ! command -v nvidia-smi >/dev/null 2>&1 || ! "$py" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" >/dev/null 2>&1; then
  echo "gpu-check: skipped: no CUDA GPU with a CUDA build of PyTorch for $py on this machine"
  exit 0
fi
out=$(mktemp -d)
cli="node dist/src/cli/main.js"
log() { echo "gpu-check: $*"; }
seconds() { local t0=$SECONDS; "$@" >"$out/last.log" 2>&1 || { cat "$out/last.log"; exit 1; }; echo $((SECONDS - t0)); }

log "GPU: $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)"
# The Python torch is found before the system's libtorch (native/find-libtorch.mjs): its CUDA build.
PYTHON=$py node native/build.mjs
npm run --silent build
$cli selfcheck --device cuda

log "adversarial training on CUDA"
$cli train --model bwconv --channels 8 --epochs 1 --train-examples 512 --test-examples 128 --adversarial pgd --adv-examples 64 --device cuda --out "$out/at" >/dev/null

log "smoke study on CUDA and on the CPU"
for device in cpu cuda; do $cli study dynamics --scale smoke --device "$device" --out "$out/dyn-$device" --json >/dev/null; done
node --input-type=module -e '
  const [cpu, cuda] = process.argv.slice(1).map((d) => Object.fromEntries(
    (await import("node:fs")).readFileSync(`${d}/results.csv`, "utf8").trim().split("\n").slice(1).map((l) => {
      const f = l.split(","); return [f.slice(0, -1).join(","), Number(f.at(-1))];
    })));
  let worst = 0;
  for (const [k, v] of Object.entries(cpu)) worst = Math.max(worst, Math.abs(v - cuda[k]) / (1 + Math.abs(v)));
  console.log(`gpu-check: smoke study rows, CUDA vs CPU: largest relative difference ${worst.toExponential(2)}`);
  if (!(worst <= 1e-3)) process.exit(1);
' "$out/dyn-cpu" "$out/dyn-cuda"

# Paper-scale ifr (CIFAR-10 when advdyn data get cifar10 has fetched it, else fourier-classes at its size), one epoch of two models.
data=()
if $cli data get cifar10 >/dev/null 2>&1; then data=(--dataset cifar10); fi
fc=$(seconds $cli study ifr --scale paper "${data[@]}" --device cuda --models fc-linear --epochs 1 --attack-examples 100 --out "$out/ifr-fc" --json)
resnet=$(seconds $cli study ifr --scale paper "${data[@]}" --device cuda --models resnet18 --epochs 1 --attack-examples 100 --out "$out/ifr-resnet" --json)
log "paper-scale ifr, 1 epoch + 100 attacked images: fc-linear ${fc} s, resnet18 ${resnet} s"

mkdir -p bench/results
node --input-type=module -e '
  const [gpu, fc, resnet, data] = process.argv.slice(1);
  const { writeFileSync } = await import("node:fs");
  writeFileSync("bench/results/gpu.json", JSON.stringify({
    date: new Date().toISOString(), gpu, dataset: data || "fourier-classes",
    ifr_paper_one_epoch_100_attacked_s: { "fc-linear": Number(fc), resnet18: Number(resnet) },
    note: "wall-clock seconds of `advdyn study ifr --scale paper --device cuda --epochs 1 --attack-examples 100` per model, including start-up and data loading",
  }, null, 2) + "\n");
' "$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)" "$fc" "$resnet" "${data[*]:-}"
log "written bench/results/gpu.json"
rm -rf "$out"
