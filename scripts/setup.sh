#!/usr/bin/env bash
# Prepares a fresh Debian/Ubuntu machine: libtorch (with OpenBLAS for fast GEMM), Chromium, Redis
# and the real Fashion-MNIST from apt when missing, then the npm dependencies, the native addon and the
# TypeScript build (npm ci).
# Safe to rerun; skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -n "${LIBTORCH:-}" ] || [ -e /usr/include/torch/csrc/api/include/torch/torch.h ] || need+=(libtorch-dev)
# Debian's libtorch calls the generic libblas.so.3; without OpenBLAS that is the reference BLAS,
# about 20x slower for GEMM.
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need+=(libopenblas0-pthread)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)
# Headless Chromium opens the generated study report in test/report.test.ts (driven by playwright-core).
[ -x /usr/bin/chromium ] || need+=(chromium)
# The queue's tests run studies on workers through a real Redis.
command -v redis-server >/dev/null || need+=(redis-server)
# The real Fashion-MNIST, without a download: advdyn finds it in /usr/share/datasets.
[ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
if [ "${#need[@]}" -gt 0 ]; then
  echo "advdyn setup: installing ${need[*]} with apt-get"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if [ ! -f native/build/Release/advdyn.node ] || [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
