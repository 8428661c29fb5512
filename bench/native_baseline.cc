// The floor under the dispatch benchmark: the same tiny ops as bench/run.ts and bench/peer_torch.py,
// called straight from C++ through libtorch's dispatcher (autograd keys included, as for them), so
// that what a binding adds on top of libtorch can be told apart from libtorch's own cost.
// Usage: native_baseline add|matmul OPS_PER_STEP ITERS WARMUP; prints seconds per step.
#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 5 || (std::strcmp(argv[1], "add") != 0 && std::strcmp(argv[1], "matmul") != 0)) {
    std::fprintf(stderr, "usage: native_baseline add|matmul OPS_PER_STEP ITERS WARMUP\n");
    return 2;
  }
  const bool add = std::strcmp(argv[1], "add") == 0;
  const long opsPerStep = std::atol(argv[2]), iters = std::atol(argv[3]), warmup = std::atol(argv[4]);
  const at::Tensor a = at::randn({8, 8}), b = at::randn({8, 8});
  auto steps = [&](long n) {
    for (long i = 0; i < n * opsPerStep; i++) {
      at::Tensor c = add ? at::add(a, b) : at::matmul(a, b);
    }
  };
  steps(warmup);
  const auto t0 = std::chrono::steady_clock::now();
  steps(iters);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - t0;
  std::printf("%.9g\n", elapsed.count() / static_cast<double>(iters));
  return 0;
}
